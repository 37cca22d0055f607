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
answers open one only to compute what they do not find, and an answer being computed is computed once:
requests asking for it meanwhile wait for it (``once``).

A GET answered from a kept answer is also remembered by its exact path and query string
(``remember_request``): the same request, asked again under the same marker by a caller whose token is
known under that marker too, is answered by ``KeptResponses`` before routing, the route's parameters
(already validated for these very bytes) and dependencies not solved again. Anything else (another
marker, a token not known or due to be recorded as used, a request never answered) goes the whole way.
"""
from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Any

import sqlean
from pydantic_core import to_json
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .. import sqlite_driver
from .deps import GENERATION_READ
from .security import SESSION_COOKIE, principal_kept

BUDGET_BYTES = 32 * 2**20  # answers kept at most (a page of 50 tracks is ~40 KB; a search's ranked tracks ~250 KB)
COMPUTING_AT_ONCE = max(2, os.cpu_count() or 2)  # answers computed at once on SQLite (``Answers.connect``)


def dumps(value: Any) -> bytes:
    """The JSON an answer is sent as, and kept as: what FastAPI would send (NaN and infinities as null)."""
    return to_json(value, inf_nan_mode="null")


def dumps_with_items(items: list[bytes], rest: dict[str, Any]) -> bytes:
    """``{"items": [...], **rest}`` as ``dumps`` sends it, the items already serialized (tracks' JSON held in
    memory, ``library/columns.py``)."""
    tail = dumps(rest)
    return b"".join((b'{"items":[', b",".join(items), b"]", b"," + tail[1:] if rest else b"}"))


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
        self._computing: dict[Hashable, asyncio.Future] = {}
        # SQLite's statements run in a thread per connection, each taking the GIL back for every row: more of
        # them at once than cores only adds switching (100k tracks, 20 clients: tracks page 80 -> 99 rps with 2)
        self._computers = asyncio.Semaphore(COMPUTING_AT_ONCE if self.dialect == "sqlite" else 10)
        self.request_paths: set[str] = set()  # paths some kept request was answered on (KeptResponses)

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
        cursor = await (await self._watching()).cursor().execute("PRAGMA data_version")
        return (await cursor.fetchall())[0][0]

    async def _watching(self):
        if self._watcher is None:
            async with self._opening:
                if self._watcher is None:
                    watcher = await sqlite_driver.connect(self._watched)
                    await (await watcher.cursor().execute("PRAGMA busy_timeout=0")).close()
                    self._watcher = watcher
        return self._watcher

    async def write_unseen(self, statement) -> bool | None:
        """Commit a small write no kept answer depends on (a token's ``last_used_at``) without changing the
        marker: on SQLite, on the marker's own connection, whose commits its ``data_version`` does not count.
        It never waits for the write lock (every request's marker read would wait behind it): False when
        another connection holds it. None where it cannot be done (PostgreSQL's marker counts every write):
        write it as any other."""
        if self._watched is None:
            return None
        compiled = statement.compile(dialect=self.engine.dialect)
        values = compiled.construct_params()
        parameters = []
        for name in compiled.positiontup:
            process = compiled.binds[name].type.dialect_impl(self.engine.dialect).bind_processor(self.engine.dialect)
            parameters.append(process(values[name]) if process else values[name])
        watcher = await self._watching()
        try:
            await (await watcher.cursor().execute(compiled.string, parameters)).close()
            await watcher.commit()
        except sqlean.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            await watcher.rollback()
            return False
        return True

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

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection to compute answers on, once one of the few computations at a time may start."""
        async with self._computers, self.engine.connect() as conn:
            yield conn

    async def once(self, generation: Any, key: Hashable, compute: Callable[[], Awaitable[tuple[Any, int]]]) -> Any:
        """The answer kept under ``key``, else ``compute()``'s (value, size), kept. While one request computes an
        answer, others asking for it under the same marker wait for it rather than compute it again (the same
        typeahead or ranking asked by several clients at once); if it fails, each computes its own."""
        kept = self.get(generation, key)
        if kept is not None or generation is None:
            return kept if kept is not None else (await compute())[0]
        pending = self._computing.get((generation, key))
        if pending is not None:
            await asyncio.wait([pending])  # raises only if this request is cancelled
            if not pending.cancelled():
                return pending.result()
            return (await compute())[0]
        pending = self._computing[(generation, key)] = asyncio.get_running_loop().create_future()
        try:
            value, size = await compute()
        except BaseException:
            pending.cancel()
            raise
        finally:
            del self._computing[(generation, key)]
        pending.set_result(value)
        return self.put(generation, key, value, size)

    def remember_request(self, generation: Any, scope: dict, key: Hashable) -> None:
        """This GET request (its exact path and query string) is answered by the answer kept under ``key``."""
        if generation is None:
            return
        self.request_paths.add(scope["path"])
        query = scope.get("query_string", b"")
        self.put(generation, ("request", scope["path"], query), (key, scope.get("route")),
                 128 + len(scope["path"]) + len(query))

    async def close(self) -> None:
        if self._watcher is not None:
            await self._watcher.close()
            self._watcher = None


class KeptResponses:
    """ASGI middleware: a GET request answered before, byte for byte, under the library's current marker, is sent
    the kept answer at once when its caller's token is known under that marker too (``Answers.remember_request``).
    Whatever it cannot answer goes on to the app, with the marker it read (one read per request)."""

    def __init__(self, app, owner):
        self.app = app
        self.owner = owner  # the API app: its state holds the answers once started

    async def __call__(self, scope, receive, send) -> None:
        answers: Answers | None = getattr(self.owner.state, "answers", None)
        if (scope["type"] != "http" or scope["method"] != "GET" or answers is None
                or scope["path"] not in answers.request_paths):
            return await self.app(scope, receive, send)
        generation = await answers.generation()
        scope[GENERATION_READ] = generation  # read once: the routes' dependency takes it from there
        body = self._kept(answers, generation, scope)
        if body is None:
            return await self.app(scope, receive, send)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _kept(answers: Answers, generation: Any, scope: dict) -> bytes | None:
        from .security import SESSION_COOKIE, principal_kept  # noqa: PLC0415 (security imports deps)  # the same rules as the routes' own check

        request = answers.get(generation, ("request", scope["path"], scope.get("query_string", b"")))
        if request is None:
            return None
        key, route = request
        body = answers.get(generation, key)
        if body is None:
            return None
        headers = Headers(scope=scope)
        header = headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else \
            cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
        if not token or principal_kept(answers, generation, token) is None:
            return None
        if route is not None:
            scope["route"] = route  # the metrics' route template
        return body
