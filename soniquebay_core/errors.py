"""Exceptions shared by the core and plugins.

Plugin contract: return ``None`` when there is nothing to say, raise when broken.
Raise ``TransientPluginError`` to ask for a retry later (network down, rate
limited, timeout) and ``PermanentPluginError`` when retrying cannot help
(corrupt input, "never for this track"). Any other exception counts as permanent.
"""


class SoniqueBayError(Exception):
    """Base for errors the command line reports as one line, without a traceback."""


class ConfigError(SoniqueBayError):
    """The configuration file or environment is invalid."""


class DatabaseUnavailable(SoniqueBayError):
    """The library database cannot be reached or opened."""


class PluginError(Exception):
    """Base for errors raised by plugins on purpose."""


class TransientPluginError(PluginError):
    """Try again later: the failure is expected to pass."""


class PermanentPluginError(PluginError):
    """Do not retry: the same input will fail the same way."""
