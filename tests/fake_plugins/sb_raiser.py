"""Fails on every call."""
from soniquebay_core import PluginManifest, hookimpl

MANIFEST = PluginManifest(id="raiser", version="1.0.0")


@hookimpl
def on_file_discovered(track, is_new):
    raise RuntimeError(f"raiser cannot handle {track.title}")


@hookimpl
def enrich_track(track):
    raise RuntimeError("raiser always fails")
