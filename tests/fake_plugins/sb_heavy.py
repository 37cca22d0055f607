"""A heavy plugin: off by default on the pi profile."""
from soniquebay_core import PluginManifest, ResourceClass, TrackPatch, hookimpl

MANIFEST = PluginManifest(id="heavy", version="2.0.0", resource_class=ResourceClass.HEAVY)


@hookimpl
def enrich_track(track):
    return TrackPatch(key="A minor")
