"""Jobs on RQ queues in Redis, for several workers on one or many machines.

The job function is ``rq_jobs.run_job`` with plain arguments (plugin, stage,
bucket, ids): workers import it, find the plugin and the tracks themselves.
Enqueueing is deduplicated on the job id: a job already queued, planned or
running on a live worker is left alone; a finished, failed or abandoned one
(its worker stopped sending heartbeats) makes room for the new one.
Concurrency caps go to RQ's ``RateLimit``; user-asked work goes to the urgent
queue that workers serve first; planned retries use RQ's scheduler.
"""
from __future__ import annotations

import logging
import socket
from datetime import datetime

import redis
from rq import Queue, RateLimit
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus
from rq.registry import FailedJobRegistry

from ..errors import SoniqueBayError
from ..plugins import PluginHost
from ..stages import BUCKET
from .job import CLASSES, QUEUE_PREFIX, Job, queue_name
from .limits import Limits

log = logging.getLogger("soniquebay.pipeline")

HEARTBEAT_KEY = "soniquebay:worker:"
ACTIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED, "rate_limited"}
FAILURE_TTL = 7 * 24 * 3600
RUN_JOB = "soniquebay_core.pipeline.rq_jobs.run_job"


class RedisUnavailable(SoniqueBayError):
    pass


def connect(url: str) -> redis.Redis:
    """A Redis client that has answered a PING, or a one-line error saying what to do."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10,
                                      health_check_interval=30)
        client.ping()
        return client
    except (redis.RedisError, OSError, ValueError) as exc:
        safe = url.split("@")[-1]
        raise RedisUnavailable(f"cannot reach Redis at {safe}: {exc} (start redis-server, or unset "
                               f"SONIQUEBAY_REDIS_URL to run jobs inside soniquebay)") from None


def live_workers(client: redis.Redis) -> set[str]:
    return {key.decode()[len(HEARTBEAT_KEY):] for key in client.scan_iter(f"{HEARTBEAT_KEY}*")}


def heartbeat(client: redis.Redis, name: str, ttl: int) -> None:
    """Say this worker is alive for the next ``ttl`` seconds (renewed every ttl/3)."""
    client.set(f"{HEARTBEAT_KEY}{name}", socket.gethostname(), ex=ttl)


def all_queue_names() -> list[str]:
    return [f"{QUEUE_PREFIX}-{c}{suffix}" for c in CLASSES for suffix in ("-urgent", "")]


class RQQueue:
    def __init__(self, client: redis.Redis, host: PluginHost, limits: Limits):
        self.redis = client
        self.host = host
        self.limits = limits

    async def enqueue(self, job: Job, at: datetime | None = None) -> bool:
        manifest = self.host.manifest(job.plugin)
        job_id = f"{job.id}-retry" if at else job.id
        if not self._make_room(job_id):
            return False
        queue = Queue(queue_name(manifest, job.urgent), connection=self.redis)
        if self.limits.heavy_serialised(manifest):
            limit = RateLimit("soniquebay-heavy", 1)
        else:
            limit = RateLimit(f"soniquebay-{manifest.id}", manifest.max_concurrency)
        target = f"bucket {job.bucket}" if job.bucket is not None else f"tracks {list(job.ids)}"
        jobs_targets = BUCKET if job.bucket is not None else max(1, len(job.ids))
        options = dict(args=job.args(), kwargs={"urgent": job.urgent}, job_id=job_id, rate_limit=limit,
                       job_timeout=int(manifest.timeout_s * jobs_targets + 60), result_ttl=3600,
                       failure_ttl=FAILURE_TTL, description=f"{job.plugin}.{job.stage} {target}")
        if at:
            queue.enqueue_at(at, RUN_JOB, **options)
        else:
            queue.enqueue(RUN_JOB, **options)
        return True

    def _make_room(self, job_id: str) -> bool:
        """False when the same job is still alive; otherwise clear its remains."""
        try:
            existing = RQJob.fetch(job_id, connection=self.redis)
        except NoSuchJobError:
            return True
        status = existing.get_status(refresh=True)
        if status in ACTIVE:
            if status != JobStatus.STARTED or existing.worker_name in live_workers(self.redis):
                return False
            log.warning("job %s was abandoned by dead worker %s: enqueueing it again", job_id, existing.worker_name)
        existing.delete()
        return True

    def depths(self) -> dict[str, int]:
        return queue_depths(self.redis)

    async def close(self) -> None:
        self.redis.close()


def queue_depths(client: redis.Redis) -> dict[str, int]:
    return {name: Queue(name, connection=client).count for name in all_queue_names()}


def failed_jobs(client: redis.Redis) -> list[dict]:
    """RQ's failed registry across our queues, with each job's traceback."""
    jobs = []
    for name in all_queue_names():
        registry = FailedJobRegistry(name, connection=client)
        for job in RQJob.fetch_many(registry.get_job_ids(), connection=client):
            if job is not None:
                result = job.latest_result()
                jobs.append({"id": job.id, "queue": name, "description": job.description,
                             "error": result.exc_string if result else None})
    return jobs


def forget_failed(client: redis.Redis) -> int:
    count = 0
    for name in all_queue_names():
        registry = FailedJobRegistry(name, connection=client)
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
            count += 1
    return count
