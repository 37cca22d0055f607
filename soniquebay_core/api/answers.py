"""Answers kept until the library changes.

A page of tracks, a search, the typeahead and who a token belongs to are asked again and again while the
library stands still, and at 100,000 tracks each costs milliseconds of SQL. They are kept, serialized,
under the database's *generation*: a marker the database itself changes on every commit, whoever makes it
(this process, a scan, a worker, the command line):

- SQLite: ``PRAGMA data_version``, read on a connection of its own that never writes (a connection does not
  see its own commits in it);
- PostgreSQL: the WAL insert position (any committed write moves it).

Every request reads the marker once (one trip), before reading anything else; an answer kept under
another marker is never served, so a write is seen by the next request. In-memory SQLite has no
marker: nothing is kept. An answer found kept takes no pooled connection at all: routes that keep
answers open one only to compute what they do not find.
"""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from pydantic_core import to_json
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .. import sqlite_driver

BUDGET_BYTES = 16 * 2**20  # serialized answers kept at most (a page of 50 tracks is ~40 KB)


def dumps(value: Any) -> bytes:
    """The JSON an answer is sent as, and kept as: what FastAPI would send (NaN and infinities as null)."""
    return to_json(value, inf_nan_mode="null")


class Answers:
    def __init__(self, engine: AsyncEngine, budget: int = BUDGET_BYTES):
        database = engine.url.database
        self.engine = engine
        self.dialect = engine.dialect.name
        self._watched = database if self.dialect == "sqlite" and database and database != ":memory:" else None
        self._watcher = None
        self._opening = asyncio.Lock()
        self.budget = budget
        self._kept: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._size = 0
        self._generation: Any = None
        self._next: asyncio.Future | None = None
        self._reading: set[asyncio.Task] = set()

    async def generation(self) -> Any:
        """The marker now (None: nothing can be kept). Requests asking in the same turn of the event loop share
        one read, made once all of them asked: it sees every commit made before any of them asked."""
        if self.dialect != "postgresql" and self._watched is None:
            return None
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(self._read_next)
        return await asyncio.shield(self._next)  # one asker cancelled does not cancel the others' read

    def _read_next(self) -> None:
        future, self._next = self._next, None
        task = asyncio.ensure_future(self._read())
        self._reading.add(task)

        def settle(done: asyncio.Task) -> None:
            self._reading.discard(done)
            if done.cancelled():
                future.cancel()
            elif done.exception() is not None:
                future.set_exception(done.exception())
            else:
                future.set_result(done.result())

        task.add_done_callback(settle)

    async def _read(self) -> Any:
        if self.dialect == "postgresql":
            async with self.engine.connect() as conn:
                return await conn.scalar(text("SELECT pg_current_wal_insert_lsn()::text"))
        if self._watcher is None:
            async with self._opening:
                if self._watcher is None:
                    self._watcher = await sqlite_driver.connect(self._watched)
        cursor = await self._watcher.cursor().execute("PRAGMA data_version")
        return (await cursor.fetchall())[0][0]

    def get(self, generation: Any, key: Hashable) -> Any:
        if generation is None or generation != self._generation or key not in self._kept:
            return None
        self._kept.move_to_end(key)
        return self._kept[key][0]

    def put(self, generation: Any, key: Hashable, value: Any, size: int = 64) -> Any:
        """Keep ``value`` (about ``size`` bytes) under ``generation``; answers kept under another are dropped."""
        if generation is None:
            return value
        if generation != self._generation:
            self._kept.clear()
            self._size = 0
            self._generation = generation
        if key in self._kept:
            self._size -= self._kept.pop(key)[1]
        self._kept[key] = (value, size)
        self._size += size
        while self._size > self.budget:
            self._size -= self._kept.popitem(last=False)[1][1]
        return value

    async def close(self) -> None:
        if self._watcher is not None:
            await self._watcher.close()
            self._watcher = None
