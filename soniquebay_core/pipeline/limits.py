"""Limits on calling plugins: concurrency caps, minimum interval between calls, heavy work on a Pi.

Inside one process, semaphores cap concurrent calls per plugin (the
manifest's ``max_concurrency``) and, on the ``pi`` profile, heavy plugins run
one at a time. Across RQ workers the same caps are enforced when jobs are
enqueued (RQ's ``RateLimit``, see rq_backend.py), and the minimum interval
between calls (rate-limited web APIs) is a Redis key that only one worker can
set per interval.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..manifest import PluginManifest


class Limits:
    def __init__(self, profile: str, redis_client=None):
        self.profile = profile
        self.redis = redis_client
        self._per_plugin: dict[str, asyncio.Semaphore] = {}
        self._heavy = asyncio.Semaphore(1)
        self._last_call: dict[str, float] = {}
        self._interval_locks: dict[str, asyncio.Lock] = {}

    def heavy_serialised(self, manifest: PluginManifest) -> bool:
        return manifest.heavy and self.profile == "pi"

    @asynccontextmanager
    async def slot(self, manifest: PluginManifest) -> AsyncIterator[None]:
        semaphore = self._per_plugin.setdefault(manifest.id, asyncio.Semaphore(manifest.max_concurrency))
        async with semaphore:
            if self.heavy_serialised(manifest):
                async with self._heavy:
                    await self._wait_interval(manifest)
                    yield
            else:
                await self._wait_interval(manifest)
                yield

    async def _wait_interval(self, manifest: PluginManifest) -> None:
        interval = manifest.min_interval_ms / 1000
        if not interval:
            return
        if self.redis is not None:
            key = f"soniquebay:interval:{manifest.id}"
            while not self.redis.set(key, "1", nx=True, px=manifest.min_interval_ms):
                await asyncio.sleep(max(self.redis.pttl(key), 1) / 1000)
            return
        async with self._interval_locks.setdefault(manifest.id, asyncio.Lock()):
            wait = self._last_call.get(manifest.id, 0) + interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_call[manifest.id] = time.monotonic()
