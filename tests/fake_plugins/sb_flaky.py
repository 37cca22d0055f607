"""Fails twice per track with a transient error, then answers."""
from collections import Counter

from soniquebay_core import PluginManifest, TrackPatch, TransientPluginError, hookimpl

MANIFEST = PluginManifest(id="flaky", version="1.0.0", retries=3, retry_backoff_s=0.05)
attempts: Counter = Counter()


@hookimpl
def enrich_track(track):
    attempts[track.id] += 1
    if attempts[track.id] <= 2:
        raise TransientPluginError(f"service busy (attempt {attempts[track.id]})")
    return TrackPatch(bpm=120.0 + attempts[track.id], key="A minor")
