"""Settings changed at run time (from the API or UI), kept in the ``settings`` table.

The config file and environment give the starting point; the overrides stored
here are laid over them, section by section, and win. Only what can change
while SoniqueBay runs may be overridden (``CHANGEABLE``): the hardware profile,
library roots, scanner and job settings, and each plugin's block (its
``enabled`` switch and its own settings). Where the data lives (data dir,
database, Redis) and how the API is exposed stay in the config file.

A ``None`` in a patch removes that override (the config's value is back); a
secret sent back as it was shown (``***``) leaves the stored secret alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from .config import Settings, redact
from .errors import ConfigError
from .library.writer import insert_for
from .models import Setting

OVERRIDES = "settings.overrides"
CHANGEABLE = ("profile", "library", "scanner", "jobs", "plugins")
MASK = "***"


async def read(conn: AsyncConnection, key: str, default: Any = None) -> Any:
    value = await conn.scalar(select(Setting.value).where(Setting.key == key))
    return default if value is None else value


async def write(conn: AsyncConnection, key: str, value: Any) -> None:
    stmt = insert_for(conn, Setting.__table__)
    await conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value}),
                       {"key": key, "value": value})


def merge(base: dict, patch: dict) -> dict:
    """``patch`` laid over ``base``, dicts merged key by key; a ``None`` value removes the key."""
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def overlay(settings: Settings, overrides: dict) -> Settings:
    """The config's settings with the stored overrides laid over them (validated like the config file)."""
    if not overrides:
        return settings
    data = settings.model_dump()
    for section, value in overrides.items():
        data[section] = merge(data[section], value) if isinstance(value, dict) else value
    try:
        merged = Settings.model_validate(data)
    except ValueError as exc:
        errors = getattr(exc, "errors", lambda: [{"loc": (), "msg": str(exc)}])()
        first = errors[0]
        raise ConfigError(f"invalid setting {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    merged.library.roots = [r.expanduser().resolve() for r in merged.library.roots]
    return merged


def patched(stored: dict, patch: dict, shown: dict) -> dict:
    """The new overrides after ``patch``; ``shown`` is what GET /settings showed (masked secrets)."""
    unknown = sorted(set(patch) - set(CHANGEABLE))
    if unknown:
        raise ConfigError(f"{', '.join(unknown)} cannot change while SoniqueBay runs (only "
                          f"{', '.join(CHANGEABLE)}); edit the config file and restart")
    return merge(stored, _without_masked(patch, redact(shown)))


def check_new_roots(patch: dict) -> None:
    """Library folders given at run time must be folders that exist here (the config file may name a drive
    that is not mounted yet; a folder typed in the interface is meant now)."""
    roots = (patch.get("library") or {}).get("roots") if isinstance(patch.get("library"), dict) else None
    for root in roots if isinstance(roots, list) else []:
        path = Path(str(root)).expanduser()
        if not path.is_absolute():
            raise ConfigError(f"invalid setting library.roots: {root!r} is not an absolute path")
        if not path.is_dir():
            raise ConfigError(f"invalid setting library.roots: {root!r} is not a folder on this machine")


def _without_masked(patch: dict, shown: dict) -> dict:
    """Drop values still equal to the mask: the client sent back a secret it was never shown."""
    kept = {}
    for key, value in patch.items():
        if isinstance(value, dict):
            kept[key] = _without_masked(value, shown.get(key) if isinstance(shown.get(key), dict) else {})
        elif not (value == MASK and shown.get(key) == MASK):
            kept[key] = value
    return kept
