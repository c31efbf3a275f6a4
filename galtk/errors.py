"""Exceptions shared by every galtk subpackage.

The command line turns a :class:`GaltkError` into one line on standard error and a non-zero exit code; any
other exception is a bug and keeps its traceback.
"""


class GaltkError(Exception):
    """A problem the user can fix (bad input, bad configuration, a file in the way)."""


class ConfigError(GaltkError):
    """galtk.toml is missing, unreadable or holds unknown keys or values of the wrong type."""


class StoreError(GaltkError):
    """A cutout store is missing, malformed, or would be overwritten."""
