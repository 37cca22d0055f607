"""SoniqueBay's cover-art plugin (entry point ``covers``): see ``plugin.py`` and README.md."""

__version__ = "1.0.0"
