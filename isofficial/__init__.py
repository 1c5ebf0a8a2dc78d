"""The composition root: settings, wiring and the `isofficial` command line."""
