"""Stages: the per-track work plugins do after a scan, and what the database says about it.

A stage is a hook the pipeline runs once per track and plugin. Its state is a
``track_stages`` row. A stage is pending for a track when it has no row at the
plugin's current version that is ``done`` or ``failed`` (a ``retry`` row is
pending once its ``next_attempt_at`` has passed). Pending work is a query,
never a list kept elsewhere: a crash, a restart or a lost queue loses nothing.

``fetch_cover`` works on albums: an album is pending when one of its tracks is,
and the result is recorded on every track of the album.

Some stages wait for others (``WAITS_FOR``): in background work ``vectorize``
is pending for a track only once every enabled enrichment has run on it, and a
job of the stage waited for is followed by the waiting stages' jobs for the
same ids. A user's request for given tracks does not wait.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from .models import Track, TrackStage
from .plugins import PluginHost

STAGE_HOOKS = ("enrich_track", "fetch_cover", "vectorize")
ALBUM_STAGES = frozenset({"fetch_cover"})
RECOMPUTED_STAGES = frozenset({"vectorize"})  # due again when the track changes after they ran
# A stage waits until these stages' enabled plugins have each had a first go at the track (any outcome):
# a vector computed before the track's enrichment would only be computed again.
WAITS_FOR = {"vectorize": ("enrich_track",)}
BUCKET = 64  # tracks (or albums) per background job: ids id // BUCKET share a job


def now() -> datetime:
    return datetime.now(timezone.utc)


def _settled(plugin: str, stage: str, version: str, at: datetime):
    """A stage row that means "nothing to do now" for the track.

    A vector sums up the whole track, so ``vectorize`` is due again when the
    track changed since the snapshot it was computed from (another stage
    patched its features, genres or tags; see library/revisions.py); the
    plugin's input hash makes that re-run cheap when nothing it embeds changed.
    """
    done = TrackStage.status.in_(("done", "failed"))
    if stage in RECOMPUTED_STAGES:
        done = and_(done, TrackStage.track_revision == Track.revision)
    return exists().where(
        TrackStage.track_id == Track.id, TrackStage.plugin == plugin, TrackStage.stage == stage,
        TrackStage.plugin_version == version,
        or_(done, and_(TrackStage.status == "retry", TrackStage.next_attempt_at > at)))


def _attempted(plugin: str, stage: str, version: str):
    """The plugin's stage has run on the track at this version, whatever came of it."""
    return exists().where(TrackStage.track_id == Track.id, TrackStage.plugin == plugin, TrackStage.stage == stage,
                          TrackStage.plugin_version == version)


def pending_tracks_query(host: PluginHost, plugin: str, stage: str, at: datetime | None = None, wait: bool = True):
    """``wait``: leave out the tracks the stage waits for (``WAITS_FOR``); a user's request does not wait."""
    query = select(Track.id).where(Track.missing.is_(False),
                                   ~_settled(plugin, stage, host.version_of(plugin), at or now()))
    for before in WAITS_FOR.get(stage, ()) if wait else ():
        for other in host.stage_plugins(before):
            query = query.where(_attempted(other, before, host.version_of(other)))
    return query


def waiting_stages(host: PluginHost, stage: str) -> list[tuple[str, str]]:
    """(plugin id, stage hook) of the enabled stages that wait for ``stage``: its jobs' followers."""
    return [(plugin, hook) for plugin, hook in enabled_stages(host) if stage in WAITS_FOR.get(hook, ())]


async def pending_buckets(conn: AsyncConnection, host: PluginHost, plugin: str, stage: str) -> list[int]:
    """Buckets holding pending work: of track ids, or of album ids for album stages."""
    column = Track.album_id if stage in ALBUM_STAGES else Track.id
    query = pending_tracks_query(host, plugin, stage).with_only_columns((column // BUCKET).label("b"))
    if stage in ALBUM_STAGES:
        query = query.where(Track.album_id.is_not(None))
    return sorted((await conn.execute(query.distinct())).scalars().all())


async def pending_targets(conn: AsyncConnection, host: PluginHost, plugin: str, stage: str, *,
                          bucket: int | None = None, ids: list[int] | None = None,
                          at: datetime | None = None, wait: bool = True) -> list[int]:
    """Pending track ids (album ids for album stages), within a bucket or among given ids.

    ``at``: the moment retries are compared with (now by default); ``wait``: see pending_tracks_query.
    """
    column = Track.album_id if stage in ALBUM_STAGES else Track.id
    query = pending_tracks_query(host, plugin, stage, at, wait).with_only_columns(column)
    if bucket is not None:
        query = query.where(column >= bucket * BUCKET, column < (bucket + 1) * BUCKET)
    if ids is not None:
        query = query.where(column.in_(ids))
    if stage in ALBUM_STAGES:
        query = query.where(Track.album_id.is_not(None))
    return sorted((await conn.execute(query.distinct())).scalars().all())


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
