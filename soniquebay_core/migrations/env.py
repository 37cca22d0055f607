"""Alembic environment: runs on the connection the core hands over (see ``db._upgrade``),
or on ``SONIQUEBAY_DATABASE_URL`` when a developer runs ``alembic`` by hand."""
from __future__ import annotations

import asyncio
import os

from alembic import context

from soniquebay_core.models import Base
from soniquebay_core.search import EXTERNAL_NAMES

target_metadata = Base.metadata


def _ours(name, type_, parent_names) -> bool:
    """Full-text search objects are made by hand (search.py); autogenerate leaves them alone."""
    return not (name or "").startswith(tuple(EXTERNAL_NAMES))


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, include_name=_ours,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def _run_from_url() -> None:
    from soniquebay_core.db import create_engine

    engine = create_engine(os.environ["SONIQUEBAY_DATABASE_URL"])

    async def go() -> None:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
        await engine.dispose()

    asyncio.run(go())


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    _run_from_url()
