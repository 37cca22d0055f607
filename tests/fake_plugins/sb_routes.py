"""A plugin with its own HTTP route and a stage."""
from soniquebay_core import PluginManifest, TrackPatch, hookimpl

MANIFEST = PluginManifest(id="routes", version="1.0.0")


@hookimpl
def register_api_routes(router, config):
    @router.get("/hello")
    async def hello():
        return {"hello": config.get("greeting", "world")}


@hookimpl
def enrich_track(track):
    if "Broken" in (track.title or ""):
        raise ValueError("cannot enrich this one")
    return TrackPatch(key="D minor")
