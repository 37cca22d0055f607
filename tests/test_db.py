"""The database layer: migrations match the models on both backends; the SQLite driver can load extensions."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from soniquebay_core import db as db_module
from soniquebay_core import sqlite_driver
from soniquebay_core.models import Base


def test_schema_revision_is_the_newest_migration():
    config = Config()
    config.set_main_option("script_location", "soniquebay_core:migrations")
    assert ScriptDirectory.from_config(config).get_current_head() == db_module.SCHEMA_REVISION


async def test_migrated_schema_matches_the_models(db):
    from soniquebay_core.search import EXTERNAL_NAMES

    def ours(name, type_, parent_names):
        return not (name or "").startswith(tuple(EXTERNAL_NAMES))

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"include_name": ours})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_opening_twice_is_harmless_and_sqlite_uses_wal(db, settings):
    again = await db_module.Database.open(settings.effective_database_url)
    await again.close()
    if db.dialect == "sqlite":
        from sqlalchemy import text

        async with db.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


def test_sqlite_driver_can_load_extensions():
    """sqlite-vec (the vectors plugin) needs it; the stdlib sqlite3 here cannot."""
    assert sqlite_driver.can_load_extensions()


async def test_sqlite_vec_loads_through_the_async_engine(tmp_path):
    import sqlite_vec
    from sqlalchemy import event, text

    engine = db_module.create_engine(f"sqlite:///{tmp_path / 'v.db'}")

    def load(dbapi_connection, _record):
        dbapi_connection.run_async(lambda conn: conn.enable_load_extension(True))
        dbapi_connection.run_async(lambda conn: conn.load_extension(sqlite_vec.loadable_path()))

    event.listen(engine.sync_engine, "connect", load)
    async with engine.connect() as conn:
        assert (await conn.execute(text("select vec_version()"))).scalar().startswith("v")
    await engine.dispose()


async def test_integrity_errors_are_wrapped_by_sqlalchemy(tmp_path):
    """The sqlean adapter maps its exceptions, so callers catch SQLAlchemy's classes."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    database = await db_module.Database.open(f"sqlite:///{tmp_path / 'i.db'}")
    try:
        async with database.engine.begin() as conn:
            await conn.execute(text("insert into roots (path) values ('/a')"))
        with pytest.raises(IntegrityError):
            async with database.engine.begin() as conn:
                await conn.execute(text("insert into roots (path) values ('/a')"))
    finally:
        await database.close()


async def test_opening_a_new_database_from_several_processes_at_once(settings):
    """serve and a worker started together both migrate a fresh database: one does, the others wait."""
    import asyncio
    import sys

    if settings.effective_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    code = ("import asyncio, sys; from soniquebay_core.db import Database\n"
            "async def main():\n    await (await Database.open(sys.argv[1])).close()\nasyncio.run(main())")
    procs = [await asyncio.create_subprocess_exec(sys.executable, "-c", code, settings.effective_database_url,
                                                  stderr=asyncio.subprocess.PIPE) for _ in range(3)]
    errors = [(await p.communicate())[1].decode()[-300:] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
