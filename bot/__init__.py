"""The core of isofficial: parse, match, decide, render. No platform SDK, no database driver."""
