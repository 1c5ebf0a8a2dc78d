"""The composition root: settings, wiring and the `isofficial` command line."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version


def version() -> str:
    """The installed distribution's version (`isofficial --version`)."""
    try:
        return _distribution_version("isofficial")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"
