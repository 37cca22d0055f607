"""Always fails permanently."""
from soniquebay_core import PluginManifest, hookimpl

MANIFEST = PluginManifest(id="broken_stage", version="1.0.0")


@hookimpl
def enrich_track(track):
    raise ValueError(f"cannot make sense of {track.title}")
