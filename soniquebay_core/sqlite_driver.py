"""SQLAlchemy's aiosqlite dialect on top of sqlean instead of the stdlib ``sqlite3``.

Some Pythons (this project's CI machine among them) build ``sqlite3`` without
extension loading, which sqlite-vec needs. ``sqlean`` is a drop-in ``sqlite3``
with loading enabled and wheels for x86_64 and aarch64. aiosqlite only needs a
function that opens a DB-API connection, and SQLAlchemy only needs a module
that looks like aiosqlite, so the swap is this small adapter, passed to
``create_async_engine(module=...)``. Exceptions map to sqlean's classes, so
SQLAlchemy still wraps them (IntegrityError, OperationalError, ...).

Every call aiosqlite makes runs on the connection's own thread: one hand-over
and one wake-up back, ~0.1 ms each on a small machine. SQLAlchemy's adapter
makes four per statement (open a cursor, execute, fetch, close), so a page of
tracks paid ~30. ``Connection.cursor`` here answers with a cursor that
executes, fetches the first rows and closes in one trip (a long result keeps
its cursor open and is fetched in further trips: streamed reads stay bounded),
and a rollback or commit with no transaction open makes no trip at all (the
pool rolls back every connection it takes back).
"""
from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

import aiosqlite
import sqlean
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

_EXCEPTIONS = ("DatabaseError", "Error", "IntegrityError", "NotSupportedError", "OperationalError",
               "ProgrammingError")


PREFETCH = 1000  # rows fetched with the statement; longer results are fetched in further trips


def _run(conn, sql: str, parameters, many: bool = False) -> tuple:
    """On the connection's thread: execute, and fetch the first rows; the cursor stays open only if more follow."""
    cursor = conn.cursor()
    (cursor.executemany if many else cursor.execute)(sql, parameters)
    rows = cursor.fetchmany(PREFETCH) if cursor.description else []
    shown = (cursor.description, cursor.rowcount, cursor.lastrowid)
    done = len(rows) < PREFETCH
    if done:
        cursor.close()
    return cursor, done, rows, shown


class _Cursor:
    """What SQLAlchemy's adapter uses of an aiosqlite cursor, one trip to the thread per statement."""

    arraysize = 1

    def __init__(self, connection: Connection):
        self._connection = connection
        self._cursor = None
        self._open = False
        self._rows: list = []
        self.description = None
        self.rowcount = -1
        self.lastrowid = None

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def _start(self, sql: str, parameters, many: bool) -> _Cursor:
        await self.close()
        self._cursor, done, self._rows, shown = await self._connection._execute(
            _run, self._connection._conn, sql, parameters, many)
        self._open = not done
        self.description, self.rowcount, self.lastrowid = shown
        return self

    async def execute(self, sql: str, parameters=()) -> _Cursor:
        return await self._start(sql, parameters, False)

    async def executemany(self, sql: str, parameters) -> _Cursor:
        return await self._start(sql, parameters, True)

    async def fetchmany(self, size: int | None = None) -> list:
        size = size or self.arraysize
        if len(self._rows) < size and self._open:
            more = await self._connection._execute(self._cursor.fetchmany, size - len(self._rows))
            self._open = len(more) == size - len(self._rows)
            self._rows += more
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchone(self):
        rows = await self.fetchmany(1)
        return rows[0] if rows else None

    async def fetchall(self) -> list:
        rows, self._rows = self._rows, []
        if self._open:
            rows += await self._connection._execute(self._cursor.fetchall)
            self._open = False
        return rows

    async def __aiter__(self):
        while rows := await self.fetchmany(64):
            for row in rows:
                yield row

    async def close(self) -> None:
        self._rows = []
        if self._open:
            self._open = False
            await self._connection._execute(self._cursor.close)


class Connection(aiosqlite.Connection):
    def cursor(self) -> _Cursor:  # aiosqlite's is awaited; SQLAlchemy only enters it
        return _Cursor(self)

    async def commit(self) -> None:
        if self._conn.in_transaction:  # sqlite3_get_autocommit: safe to read from this thread
            await super().commit()

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await super().rollback()


def connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> Connection:
    connection = Connection(functools.partial(sqlean.connect, database, **kwargs), iter_chunk_size)
    connection._thread.daemon = True  # as SQLAlchemy does: never keep the process alive
    return connection


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DB-API module object SQLAlchemy's aiosqlite dialect expects, backed by sqlean."""
    shim = SimpleNamespace(
        connect=connect,
        Connection=Connection,
        __version__=aiosqlite.__version__,
        sqlite_version=sqlean.sqlite_version,
        sqlite_version_info=sqlean.sqlite_version_info,
        **{name: getattr(sqlean, name) for name in _EXCEPTIONS},
    )
    return AsyncAdapt_aiosqlite_dbapi(shim, sqlean)


def can_load_extensions() -> bool:
    """Whether this SQLite can load extensions such as sqlite-vec."""
    connection = sqlean.connect(":memory:")
    try:
        connection.enable_load_extension(True)
        return True
    except (AttributeError, sqlean.Error):
        return False
    finally:
        connection.close()
