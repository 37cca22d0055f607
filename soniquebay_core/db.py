"""The library database: engine, sessions and migrations.

SQLite (through aiosqlite on sqlean) by default, one file in the data dir in
WAL mode; PostgreSQL through asyncpg when ``database_url`` says so. The schema
is always brought to the latest Alembic revision when the database is opened.
"""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from pathlib import Path

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from . import sqlite_driver
from .errors import ConfigError, DatabaseUnavailable

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA temp_store=MEMORY",
    # planner statistics (which index narrows more), gathered only when missing or stale. Full ones: sampled
    # (analysis_limit) they claimed missing = 0 keeps 401 of 100,000 tracks, and lookups by id scanned an index
    "PRAGMA optimize=0x10002",
)


def normalise_url(raw: str) -> URL:
    """Accept plain ``sqlite:///`` and ``postgresql://`` URLs and pick our async drivers."""
    try:
        url = make_url(raw)
    except Exception:
        raise ConfigError(f"invalid database URL {raw!r}") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+asyncpg")
    raise ConfigError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _set_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def create_engine(raw_url: str) -> AsyncEngine:
    url = normalise_url(raw_url)
    if url.get_backend_name() == "sqlite":
        pooling = {}
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            # a connection per request in flight, kept: opening one starts a thread and reads the schema, and a
            # pool smaller than the requests in flight opened and closed one per request (20 clients, 5 kept)
            pooling = {"pool_size": 20, "max_overflow": 20}
        engine = create_async_engine(url, module=sqlite_driver.dbapi(), **pooling)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


# The newest migration in migrations/versions (a test keeps them equal). Knowing it here
# lets an up-to-date database open without importing Alembic, which every CLI call would pay.
SCHEMA_REVISION = "0005"


def _current_revision(connection: Connection) -> str | None:
    from sqlalchemy import inspect

    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


MIGRATION_LOCK = 0x50_4E_49_51_55_45  # the advisory lock PostgreSQL migrations hold ("SONIQUE" in part)


def _upgrade(connection: Connection) -> None:
    if _current_revision(connection) == SCHEMA_REVISION:
        return
    if connection.dialect.name == "postgresql":
        # processes opening a new database at once (serve and a worker): one migrates, the others wait,
        # then find it done; without the lock the second failed on a duplicate table
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        if _current_revision(connection) == SCHEMA_REVISION:
            return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "soniquebay_core:migrations")
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


@contextlib.asynccontextmanager
async def _sqlite_migration_lock(engine: AsyncEngine):
    """Processes opening a new SQLite library at once take turns (a lock file beside it), until the
    migrating one has committed: Alembic's DDL on SQLite does not wait for the other's transaction."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    fd = os.open(f"{database}.migration-lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # and with it the lock


class Database:
    """An engine plus a session factory; ``open`` migrates the schema first."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @classmethod
    async def open(cls, raw_url: str) -> Database:
        engine = create_engine(raw_url)
        try:
            async with _sqlite_migration_lock(engine), engine.begin() as connection:
                await connection.run_sync(_upgrade)
        except (OSError, DBAPIError, SQLAlchemyError) as exc:
            await engine.dispose()
            raise DatabaseUnavailable(f"cannot open the library database at {_safe(raw_url)}: "
                                      f"{_reason(exc)}") from None
        return cls(engine)

    async def close(self) -> None:
        await self.engine.dispose()

    def session(self) -> AsyncSession:
        return self.sessions()


def _safe(raw_url: str) -> str:
    try:
        return make_url(raw_url).render_as_string(hide_password=True)
    except Exception:
        return "<invalid url>"


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return f"{type(orig).__name__}: {str(orig).splitlines()[0] if str(orig) else ''}".strip(": ")
