"""A heavy plugin with a rate limit: records how many of its calls overlap and when each starts.

``async`` so that each start is stamped on the event loop right after the limiter lets it
through (a thread's start would add scheduling jitter to the measured gaps).
"""
import asyncio
import os
import time

from soniquebay_core import PluginManifest, ResourceClass, TrackPatch, hookimpl

MANIFEST = PluginManifest(id="limited", version="1.0.0", resource_class=ResourceClass.HEAVY, max_concurrency=4,
                          min_interval_ms=30)
running = 0
most = 0
starts: list[float] = []


@hookimpl
async def enrich_track(track):
    global running, most
    running += 1
    most = max(most, running)
    starts.append(time.monotonic())
    began = time.time()
    await asyncio.sleep(0.1)  # longer than the interval, so that calls can overlap where allowed
    running -= 1
    if os.environ.get("SB_CALL_LOG"):  # for calls in several worker processes
        with open(os.environ["SB_CALL_LOG"], "a") as fh:
            fh.write(f"enrich_track {track.id} {os.getpid()} {began:.4f} {time.time():.4f}\n")
    return TrackPatch(key="C major")
