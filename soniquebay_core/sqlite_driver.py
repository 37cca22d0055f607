"""SQLAlchemy's aiosqlite dialect on top of sqlean instead of the stdlib ``sqlite3``.

Some Pythons (this project's CI machine among them) build ``sqlite3`` without
extension loading, which sqlite-vec needs. ``sqlean`` is a drop-in ``sqlite3``
with loading enabled and wheels for x86_64 and aarch64. aiosqlite only needs a
function that opens a DB-API connection, and SQLAlchemy only needs a module
that looks like aiosqlite, so the swap is this small adapter, passed to
``create_async_engine(module=...)``. Exceptions map to sqlean's classes, so
SQLAlchemy still wraps them (IntegrityError, OperationalError, ...).
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


def _connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> aiosqlite.Connection:
    connection = aiosqlite.Connection(functools.partial(sqlean.connect, database, **kwargs), iter_chunk_size)
    connection._thread.daemon = True  # as SQLAlchemy does: never keep the process alive
    return connection


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DB-API module object SQLAlchemy's aiosqlite dialect expects, backed by sqlean."""
    shim = SimpleNamespace(
        connect=_connect,
        Connection=aiosqlite.Connection,
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
