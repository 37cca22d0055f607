"""Ignores FLAC files: its opinion comes before the built-in rules."""
from soniquebay_core import PluginManifest, hookimpl

MANIFEST = PluginManifest(id="ignore_flac", version="1.0.0")


@hookimpl
def ignore_file(path, is_dir):
    return True if path.endswith(".flac") else None
