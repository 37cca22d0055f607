"""Takes longer than its timeout: a transient failure, retried once, then given up."""
import asyncio

from soniquebay_core import PluginManifest, TrackPatch, hookimpl

MANIFEST = PluginManifest(id="slow", version="1.0.0", timeout_s=0.2, retries=1, retry_backoff_s=0.05)


@hookimpl
async def enrich_track(track):
    await asyncio.sleep(5)
    return TrackPatch(bpm=1.0)
