"""Settings changed at run time (from the API or UI), kept in the ``settings`` table.

The config file and environment give the starting point; what is stored here
wins over them. Today that is which plugins are switched on or off.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from .config import Settings
from .library.writer import insert_for
from .models import Setting

PLUGIN_SWITCHES = "plugins.enabled"


async def read(conn: AsyncConnection, key: str, default: Any = None) -> Any:
    value = await conn.scalar(select(Setting.value).where(Setting.key == key))
    return default if value is None else value


async def write(conn: AsyncConnection, key: str, value: Any) -> None:
    stmt = insert_for(conn, Setting.__table__)
    await conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value}),
                       {"key": key, "value": value})


def with_plugin_switches(settings: Settings, switches: dict[str, bool]) -> Settings:
    """The settings with stored on/off switches laid over each plugin's block."""
    plugins = {name: dict(block) for name, block in settings.plugins.items()}
    for name, enabled in switches.items():
        plugins.setdefault(name, {})["enabled"] = bool(enabled)
    return settings.model_copy(update={"plugins": plugins})
