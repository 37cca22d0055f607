"""Running one job: the same code whether the job came from RQ or from the embedded pool.

For each pending target of the job the plugin is called once (with the
manifest's timeout and the limits), the answer is classified, and all the
answers of the job are written in one transaction with the stage state:

- an answer (or ``None``, "nothing found") → ``done``;
- ``TransientPluginError``, a timeout or a connection error → ``retry`` after
  ``retry_backoff_s * 2**(attempt-1)``, until ``retries`` is exhausted → ``failed``;
- anything else → ``failed`` at once, with the traceback kept as the error.

A job that ran on some targets is followed by the jobs of the stages that wait
for its stage (``stages.WAITS_FOR``), for the same ids: the backend enqueues
``JobReport.followers``.

A job killed half-way wrote nothing; its targets are still pending and the
next sweep enqueues them again.
"""
from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

from ..db import Database
from ..errors import TransientPluginError
from ..library.query import tracks_by_id
from ..models import Album, Track, TrackEmbedding, TrackStage
from ..plugins import PluginHost
from ..schemas import AlbumSnapshot, CoverCandidate, Embedding, TrackPatch, TrackSnapshot
from ..stages import ALBUM_STAGES, BUCKET, now, pending_targets, waiting_stages
from .events import EventBus
from .job import Job
from .limits import Limits
from .metrics import Metrics
from .results import Outcome, write_outcomes

log = logging.getLogger("soniquebay.pipeline")

RESULT_TYPES = {"enrich_track": TrackPatch, "fetch_cover": CoverCandidate, "vectorize": Embedding}
TRANSIENT = (TransientPluginError, TimeoutError, ConnectionError)
MAX_BACKOFF = timedelta(hours=6)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=timezone.utc)


@dataclass
class JobReport:
    job_id: str
    done: int = 0
    retry: int = 0
    failed: int = 0
    seconds: float = 0.0
    next_retry_at: datetime | None = None
    failures: list[str] = field(default_factory=list)
    followers: list[Job] = field(default_factory=list)


class StageRunner:
    def __init__(self, db: Database, host: PluginHost, data_dir: Path, limits: Limits, metrics: Metrics,
                 events: EventBus):
        self.db = db
        self.host = host
        self.data_dir = data_dir
        self.limits = limits
        self.metrics = metrics
        self.events = events

    async def run(self, job: Job) -> JobReport:
        started = time.monotonic()
        report = JobReport(job.id)
        info = self.host.plugins.get(job.plugin)
        if info is None or not info.enabled or job.stage not in info.hooks:
            log.info("job %s skipped: plugin %s is not enabled for %s", job.id, job.plugin, job.stage)
            return report
        manifest = info.manifest
        assert manifest is not None
        version = manifest.version
        async with self.db.engine.connect() as conn:
            # user-requested ids run now, even when a retry was planned for later or the stage waits for another
            targets = await pending_targets(conn, self.host, job.plugin, job.stage, bucket=job.bucket,
                                            ids=list(job.ids) or None,
                                            at=FAR_FUTURE if job.ids else None, wait=not job.ids)
            if not targets:
                report.next_retry_at = await self._next_retry(conn, job, version)
                return report
            attempts = await self._attempts(conn, job, version, targets)
            revisions = {} if job.stage in ALBUM_STAGES else dict((await conn.execute(  # read before the snapshots
                select(Track.id, Track.revision).where(Track.id.in_(targets)))).all())
            snapshots = await self._snapshots(conn, job.stage, targets)
        outcomes = []
        for target in targets:
            if target not in snapshots:
                continue
            outcome = await self._call(job, manifest, target, snapshots[target], attempts.get(target, 0) + 1)
            outcome.revision = revisions.get(target)
            outcomes.append(outcome)
            setattr(report, outcome.status, getattr(report, outcome.status) + 1)
            if outcome.status == "failed":
                report.failures.append(f"{target}: {outcome.error.splitlines()[-1] if outcome.error else ''}")
        async with self.db.engine.begin() as conn:
            await write_outcomes(conn, job.plugin, job.stage, version, outcomes, self.data_dir)
            report.next_retry_at = await self._next_retry(conn, job, version)
        if outcomes:
            report.followers = [Job(plugin, stage, bucket=job.bucket, ids=job.ids, urgent=job.urgent)
                                for plugin, stage in waiting_stages(self.host, job.stage)]
        report.seconds = time.monotonic() - started
        self.metrics.record(job.plugin, job.stage, report)
        await self.events.publish({"type": "stage.job", "task_id": f"stage:{job.plugin}.{job.stage}",
                                   "stage": f"{job.plugin}.{job.stage}", "job_id": job.id, "done": report.done,
                                   "failed": report.failed, "retry": report.retry,
                                   "seconds": round(report.seconds, 3), "errors": report.failures[:5]})
        return report

    async def _call(self, job: Job, manifest, target: int, snapshot, attempt: int) -> Outcome:
        argument = "album" if job.stage in ALBUM_STAGES else "track"
        features = snapshot.features if isinstance(snapshot, TrackSnapshot) else None
        try:
            async with self.limits.slot(manifest):
                value = await self.host.dispatch.call_one(job.plugin, job.stage, timeout=manifest.timeout_s,
                                                          **{argument: snapshot})
            expected = RESULT_TYPES.get(job.stage)
            if value is not None and expected is not None and not isinstance(value, expected):
                raise TypeError(f"{job.plugin}.{job.stage} returned {type(value).__name__}, "
                                f"expected {expected.__name__} or None")
            return Outcome(target, "done", value=value, attempts=attempt, features=features)
        except TRANSIENT as exc:
            error = _describe(exc)
            if attempt > manifest.retries:
                return Outcome(target, "failed", error=f"gave up after {attempt} attempts: {error}",
                               attempts=attempt)
            delay = min(timedelta(seconds=manifest.retry_backoff_s * 2 ** (attempt - 1)), MAX_BACKOFF)
            return Outcome(target, "retry", error=error, attempts=attempt, next_attempt_at=now() + delay)
        except Exception:
            return Outcome(target, "failed", error=traceback.format_exc(limit=8), attempts=attempt)

    async def _next_retry(self, conn, job: Job, version: str) -> datetime | None:
        """The earliest planned retry within the job's ids: when the job should run again."""
        column = Track.album_id if job.stage in ALBUM_STAGES else TrackStage.track_id
        query = select(func.min(TrackStage.next_attempt_at)).where(
            TrackStage.plugin == job.plugin, TrackStage.stage == job.stage, TrackStage.plugin_version == version,
            TrackStage.status == "retry")
        if job.stage in ALBUM_STAGES:
            query = query.join(Track, Track.id == TrackStage.track_id)
        if job.bucket is not None:
            query = query.where(column >= job.bucket * BUCKET, column < (job.bucket + 1) * BUCKET)
        else:
            query = query.where(column.in_(job.ids))
        at = await conn.scalar(query)
        return at.replace(tzinfo=timezone.utc) if at is not None and at.tzinfo is None else at

    async def _attempts(self, conn, job: Job, version: str, targets: list[int]) -> dict[int, int]:
        """Attempts so far of planned retries (for album stages, per album)."""
        query = select(TrackStage.track_id, TrackStage.attempts).where(
            TrackStage.plugin == job.plugin, TrackStage.stage == job.stage, TrackStage.plugin_version == version,
            TrackStage.status == "retry")
        if job.stage in ALBUM_STAGES:
            query = query.join(Track, Track.id == TrackStage.track_id).with_only_columns(
                Track.album_id, TrackStage.attempts).where(Track.album_id.in_(targets))
        else:
            query = query.where(TrackStage.track_id.in_(targets))
        attempts: dict[int, int] = {}
        for target, count in await conn.execute(query):
            attempts[target] = max(count, attempts.get(target, 0))
        return attempts

    async def _snapshots(self, conn, stage: str, targets: list[int]) -> dict[int, TrackSnapshot | AlbumSnapshot]:
        if stage not in ALBUM_STAGES:
            fields = TrackSnapshot.model_fields
            hashes: dict[int, dict[str, str]] = {}
            if stage == "vectorize":  # so that the plugin can skip an unchanged track
                for track_id, model, digest in await conn.execute(
                        select(TrackEmbedding.track_id, TrackEmbedding.model, TrackEmbedding.input_hash).where(
                            TrackEmbedding.track_id.in_(targets), TrackEmbedding.input_hash.is_not(None))):
                    hashes.setdefault(track_id, {})[model] = digest
            return {t["id"]: TrackSnapshot.model_validate({**{k: v for k, v in t.items() if k in fields},
                                                           "embedding_hashes": hashes.get(t["id"], {})})
                    for t in await tracks_by_id(conn, targets)}
        albums = {row.id: row for row in await conn.execute(select(Album).where(Album.id.in_(targets)))}
        paths: dict[int, list[str]] = {}
        for album_id, path in await conn.execute(select(Track.album_id, Track.path).where(
                Track.album_id.in_(targets), Track.missing.is_(False)).order_by(Track.disc_number, Track.track_number)):
            paths.setdefault(album_id, []).append(path)
        return {a.id: AlbumSnapshot(
            id=a.id, title=a.title, albumartist=a.albumartist, year=a.year, mb_albumid=a.mb_albumid,
            mb_releasegroupid=a.mb_releasegroupid, track_paths=paths.get(a.id, []),
            folders=sorted({p.rsplit("/", 1)[0] for p in paths.get(a.id, [])})) for a in albums.values()}


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip().rstrip(":")
