"""A light plugin for the web tests: gives each track a tempo and a key (so pages show BPM and key,
and search has a key facet), declares a network host, holds a secret setting (shown masked) and adds a
route of its own (mounted behind the interface, which must not hide it)."""
from soniquebay_core import PluginManifest, TrackPatch, hookimpl
from soniquebay_core.manifest import NetworkHost

MANIFEST = PluginManifest(id="webdemo", version="1.0.0", description="Tempo and key from the track id (tests).",
                          network_hosts=(NetworkHost(host="api.example.org", reason="pretend lookups"),))
KEYS = ["C", "Am", "G", "Em", "D", "Bm"]


@hookimpl
def enrich_track(track, config):
    return TrackPatch(bpm=80.0 + track.id % 90, key=KEYS[track.id % len(KEYS)])


@hookimpl
def register_api_routes(router, config):
    @router.get("/region")
    async def region() -> dict:
        return {"region": config.get("region")}
