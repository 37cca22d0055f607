"""Turning what the database says is pending into jobs, on a timer or on demand.

A sweep asks, per enabled (plugin, stage), which buckets of ids hold pending
work and enqueues one job per bucket; the queue drops jobs that are already
waiting. Kinds of sweep and their default periods (``[jobs]`` settings):
enrichment every 2 min, covers every 5, vectors every 3, everything (due
retries included) every 10, maintenance daily.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, select, text

from ..models import PluginError, Track
from ..stages import ALBUM_STAGES, BUCKET, enabled_stages, now, pending_buckets

log = logging.getLogger("soniquebay.pipeline")

KINDS: dict[str, tuple[str, ...] | None] = {
    "enrich": ("enrich_track",),
    "covers": ("fetch_cover",),
    "vectors": ("vectorize",),
    "retries": None,  # every stage
}


def period_of(kind: str, jobs_settings) -> int:
    return getattr(jobs_settings, {"enrich": "enrich_every_s", "covers": "covers_every_s",
                                   "vectors": "vectors_every_s", "retries": "retries_every_s",
                                   "maintenance": "maintenance_every_s"}[kind])


async def sweep(runtime, kind: str = "retries") -> dict[str, int]:
    """Enqueue a job for every bucket with pending work; returns jobs enqueued per plugin.stage."""
    from .job import Job

    hooks = KINDS[kind]
    enqueued: dict[str, int] = {}
    for plugin, stage in enabled_stages(runtime.host):
        if hooks is not None and stage not in hooks:
            continue
        async with runtime.db.engine.connect() as conn:
            buckets = await pending_buckets(conn, runtime.host, plugin, stage)
        count = 0
        for bucket in buckets:
            count += await runtime.queue.enqueue(Job(plugin, stage, bucket=bucket))
        enqueued[f"{plugin}.{stage}"] = count
    if any(enqueued.values()):
        log.info("sweep %s enqueued %s", kind, enqueued)
    return enqueued


async def analyse_now(runtime, track_ids: list[int], hooks: tuple[str, ...] | None = None) -> int:
    """Urgent jobs for these tracks (their albums, for album stages), ahead of background work."""
    from .job import Job

    jobs = 0
    for plugin, stage in enabled_stages(runtime.host):
        if hooks and stage not in hooks:
            continue
        ids = track_ids
        if stage in ALBUM_STAGES:
            async with runtime.db.engine.connect() as conn:
                ids = sorted(set((await conn.execute(select(Track.album_id).where(
                    Track.id.in_(track_ids), Track.album_id.is_not(None)))).scalars()))
        for start in range(0, len(ids), BUCKET):
            jobs += await runtime.queue.enqueue(Job(plugin, stage, ids=tuple(ids[start:start + BUCKET]), urgent=True))
    return jobs


async def failed(runtime) -> dict:
    """Stages that failed for good (the database's word), and RQ's failed registry when there is one."""
    from ..models import TrackStage

    async with runtime.db.engine.connect() as conn:
        rows = (await conn.execute(
            select(TrackStage.plugin, TrackStage.stage, TrackStage.track_id, Track.path, TrackStage.attempts,
                   TrackStage.error).join(Track, Track.id == TrackStage.track_id)
            .where(TrackStage.status == "failed").order_by(TrackStage.plugin, TrackStage.track_id))).all()
    registry = []
    if not runtime.embedded:
        from .rq_backend import failed_jobs

        registry = failed_jobs(runtime.redis)
    return {"stages": [dict(r._mapping) for r in rows], "rq_failed_jobs": registry}


async def retry_failed(runtime, track_ids: list[int] | None = None, plugin: str | None = None,
                       hooks: tuple[str, ...] | None = None) -> tuple[list[int], int]:
    """Forget matching failures and enqueue them as urgent work; returns (track ids, jobs)."""
    from ..models import TrackStage

    conditions = [TrackStage.status == "failed"]
    if track_ids:
        conditions.append(TrackStage.track_id.in_(track_ids))
    if plugin:
        conditions.append(TrackStage.plugin == plugin)
    if hooks:
        conditions.append(TrackStage.stage.in_(hooks))
    async with runtime.db.engine.begin() as conn:
        ids = sorted(set((await conn.execute(select(TrackStage.track_id).where(*conditions))).scalars()))
        await conn.execute(delete(TrackStage).where(*conditions))
    if not runtime.embedded:
        from .rq_backend import forget_failed

        forget_failed(runtime.redis)
    return ids, (await analyse_now(runtime, ids, hooks) if ids else 0)


async def maintenance(runtime) -> None:
    """Daily upkeep: old plugin errors, planner statistics."""
    async with runtime.db.engine.begin() as conn:
        await conn.execute(delete(PluginError).where(PluginError.occurred_at < now() - timedelta(days=30)))
    async with runtime.db.engine.connect() as conn:
        await conn.execute(text("PRAGMA optimize" if runtime.db.dialect == "sqlite" else "ANALYZE"))
        await conn.commit()
