"""A heavy plugin with a rate limit: records how many of its calls overlap and when each starts."""
import threading
import time

from soniquebay_core import PluginManifest, ResourceClass, TrackPatch, hookimpl

MANIFEST = PluginManifest(id="limited", version="1.0.0", resource_class=ResourceClass.HEAVY, max_concurrency=4,
                          min_interval_ms=30)
lock = threading.Lock()
running = 0
most = 0
starts: list[float] = []


@hookimpl
def enrich_track(track):
    global running, most
    with lock:
        running += 1
        most = max(most, running)
        starts.append(time.monotonic())
    time.sleep(0.1)  # longer than the interval, so that calls can overlap where allowed
    with lock:
        running -= 1
    return TrackPatch(key="C major")
