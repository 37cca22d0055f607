"""Ignores FLAC files and keeps every ``.keep`` file: its opinions come before the built-in rules."""
from soniquebay_core import PluginManifest, hookimpl

MANIFEST = PluginManifest(id="ignore_flac", version="1.0.0")


@hookimpl
def ignore_entries(files):
    opinions = {name: True for name in files if name.endswith(".flac")}
    opinions.update({name: False for name in files if name.endswith(".keep")})
    return opinions or None
