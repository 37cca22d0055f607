"""``soniquebay doctor``: what is wrong with this installation, and how to fix it.

Each check gives a level (ok, warn, fail), what it looked at, and, when not
ok, what to do. Nothing here raises: an unreachable database or Redis is a
finding, not a traceback.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .config import Settings
from .db import SCHEMA_REVISION, Database, _safe
from .errors import SoniqueBayError
from .plugins import PluginHost
from .stages import stage_summary


@dataclass
class Finding:
    level: str  # ok | warn | fail
    check: str
    detail: str
    fix: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


async def diagnose(settings: Settings, host: PluginHost) -> list[Finding]:
    findings = [Finding("ok", "config", f"profile {settings.profile}, from {settings.config_file or 'defaults'}")]
    findings += _plugins(host)
    findings += await _database(settings, host)
    findings += _redis(settings)
    return findings


def _plugins(host: PluginHost) -> list[Finding]:
    found = []
    for p in sorted(host.plugins.values(), key=lambda p: p.id):
        if p.status == "failed":
            found.append(Finding("fail", f"plugin {p.id}", p.reason,
                                 "reinstall or update the plugin, or uninstall it"))
        elif p.status == "disabled":
            found.append(Finding("ok", f"plugin {p.id}", f"disabled: {p.reason}"))
    enabled = ", ".join(sorted(p.id for p in host.enabled))
    found.append(Finding("ok", "plugins", f"enabled: {enabled}"))
    return found


async def _database(settings: Settings, host: PluginHost) -> list[Finding]:
    url = settings.effective_database_url
    try:
        db = await Database.open(url)
    except SoniqueBayError as exc:
        return [Finding("fail", "database", str(exc), "check database_url; for PostgreSQL, that the server runs "
                                                      "and the database exists")]
    found = []
    try:
        found.append(Finding("ok", "database", f"{db.dialect} at {_safe(url)}, schema {SCHEMA_REVISION}"))
        if db.dialect == "sqlite":
            from . import sqlite_driver

            if sqlite_driver.can_load_extensions():
                found.append(Finding("ok", "sqlite extensions", "sqlean driver: extensions (sqlite-vec) can load"))
            else:
                found.append(Finding("warn", "sqlite extensions", "this SQLite cannot load extensions",
                                     "vector search falls back to brute force; reinstall sqlean-py"))
        async with db.engine.connect() as conn:
            found += await _vectors(conn)
            for s in await stage_summary(conn, host):
                name = f"stage {s['plugin']}.{s['stage']}"
                detail = f"{s['done']} done, {s['pending']} pending, {s['failed']} failed"
                if s["failed"]:
                    found.append(Finding("warn", name, detail, "see `soniquebay jobs failed`, then "
                                                               "`soniquebay jobs retry --all`"))
                else:
                    found.append(Finding("ok", name, detail))
    finally:
        await db.close()
    return found


async def _vectors(conn) -> list[Finding]:
    """Which path vector queries take here: the database's kNN store, and the in-memory index beside it."""
    from sqlalchemy import func, select

    from .models import TrackEmbedding

    held = (await conn.execute(select(TrackEmbedding.model, func.count()).group_by(TrackEmbedding.model)
                               .order_by(func.count().desc()))).all()
    vectors = ", ".join(f"{n} of {m}" for m, n in held) or "none yet"
    try:
        from .vectors.service import INDEX_BUDGET_MB
        from .vectors.store import detect
    except ImportError as exc:  # numpy comes with a vectors plugin
        return [Finding("warn" if held else "ok", "vectors", f"vector search unavailable: {exc}; vectors: {vectors}",
                        "install a vectors plugin (soniquebay-vectors)")]
    store = await detect(conn, enable=False)
    detail = (f"queries from an in-memory index (up to {INDEX_BUDGET_MB} MB), database store {store.detail}; "
              f"vectors: {vectors}")
    if store.name == "numpy":
        return [Finding("warn", "vectors", detail, "for a database kNN index: sqlite-vec (pip install sqlite-vec) "
                                                   "or pgvector on the PostgreSQL server")]
    return [Finding("ok", "vectors", detail)]


def _redis(settings: Settings) -> list[Finding]:
    if not settings.redis_url:
        return [Finding("ok", "jobs", "in-process (no Redis configured): `scan` and `serve` run the stages")]
    from .pipeline.rq_backend import RedisUnavailable, connect, failed_jobs, live_workers, queue_depths

    try:
        client = connect(settings.redis_url)
    except RedisUnavailable as exc:
        return [Finding("fail", "redis", str(exc))]
    found = [Finding("ok", "redis", f"reachable at {settings.redis_url.split('@')[-1]}")]
    workers = live_workers(client)
    if workers:
        found.append(Finding("ok", "workers", f"{len(workers)} alive: {', '.join(sorted(workers))}"))
    else:
        found.append(Finding("fail", "workers", "no worker is alive: queued jobs wait",
                             "start one: `soniquebay worker` (and one `soniquebay scheduler`)"))
    depths = {name: n for name, n in queue_depths(client).items() if n}
    found.append(Finding("ok", "queues", ", ".join(f"{k} {v}" for k, v in depths.items()) or "empty"))
    failed = len(failed_jobs(client))
    if failed:
        found.append(Finding("warn", "failed jobs", f"{failed} in RQ's failed registry",
                             "`soniquebay jobs failed`, then `soniquebay jobs retry --all`"))
    client.close()
    return found
