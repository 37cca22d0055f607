"""Stages: the per-track work plugins do after a scan, and what the database says about it.

A stage is a hook the pipeline runs once per track and plugin. Its state is a
``track_stages`` row; a stage is pending for a track when there is no ``done``
or ``failed`` row at the plugin's current version, so pending work is a query,
never a list kept elsewhere.
"""
from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from .models import Track, TrackStage
from .plugins import PluginHost

STAGE_HOOKS = ("enrich_track", "fetch_cover", "vectorize")


def enabled_stages(host: PluginHost) -> list[tuple[str, str]]:
    """(plugin id, stage hook) for every enabled plugin serving a stage."""
    return [(plugin, hook) for hook in STAGE_HOOKS for plugin in host.stage_plugins(hook)]


async def stage_summary(conn: AsyncConnection, host: PluginHost) -> list[dict]:
    """Per enabled (plugin, stage): done / failed / pending track counts at the current version."""
    tracks = (await conn.execute(select(func.count()).select_from(Track).where(Track.missing.is_(False))))\
        .scalar_one()
    summary = []
    for plugin, stage in enabled_stages(host):
        version = host.version_of(plugin)
        rows = await conn.execute(
            select(TrackStage.status, func.count())
            .join(Track, and_(Track.id == TrackStage.track_id, Track.missing.is_(False)))
            .where(TrackStage.plugin == plugin, TrackStage.stage == stage, TrackStage.plugin_version == version)
            .group_by(TrackStage.status))
        counts = dict(rows.all())
        done, failed = counts.get("done", 0), counts.get("failed", 0)
        summary.append({"plugin": plugin, "stage": stage, "version": version, "done": done, "failed": failed,
                        "pending": tracks - done - failed})
    return summary
