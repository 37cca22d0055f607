"""Progress events: one interface, in-process or over Redis pub/sub.

An event is a JSON object with at least ``type`` and ``task_id``; scans add
``current``, ``total``, ``percent``, ``files_per_second`` and ``errors``; stage
jobs add ``stage`` and their counts. Producers publish at a sensible rate
(a scan every half second, a stage once per job), never per file.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Protocol

CHANNEL = "soniquebay:events"


class EventBus(Protocol):
    async def publish(self, event: dict) -> None: ...

    def subscribe(self) -> AsyncIterator[dict]: ...

    async def close(self) -> None: ...


def _stamp(event: dict, counter: itertools.count) -> dict:
    return {"id": next(counter), "ts": round(time.time(), 3), **event}


class LocalBus:
    """Subscribers in this process; a slow one loses its oldest events, never blocks a publisher."""

    def __init__(self, backlog: int = 1000):
        self.backlog = backlog
        self._subscribers: set[asyncio.Queue] = set()
        self._ids = itertools.count(1)

    async def publish(self, event: dict) -> None:
        stamped = _stamp(event, self._ids)
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(stamped)

    async def subscribe(self) -> AsyncIterator[dict]:
        queue: asyncio.Queue = asyncio.Queue(self.backlog)
        self._subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)

    async def close(self) -> None:
        self._subscribers.clear()


class RedisBus:
    """Events between processes (workers, server, CLI) through Redis pub/sub."""

    def __init__(self, url: str):
        import redis.asyncio

        self.redis = redis.asyncio.from_url(url)
        self._ids = itertools.count(1)

    async def publish(self, event: dict) -> None:
        await self.redis.publish(CHANNEL, json.dumps(_stamp(event, self._ids), default=str))

    async def subscribe(self) -> AsyncIterator[dict]:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(CHANNEL)
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield json.loads(message["data"])
        finally:
            await pubsub.aclose()

    async def close(self) -> None:
        await self.redis.aclose()
