"""``soniquebay worker`` and ``soniquebay scheduler``: the RQ side of the pipeline.

A worker runs jobs in its own process, one after the other (RQ's
SimpleWorker): the runtime and the heavy modules plugins declare in their
manifest (``preload``) are loaded once, before the first job, not per job. A
thread renews the worker's heartbeat key so that a killed worker's job is
recognised as abandoned and enqueued again. The scheduler (rq-scheduler)
enqueues the periodic sweeps.
"""
from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import uuid

from rq import SimpleWorker

from . import rq_jobs
from .job import CLASSES, worker_queue_names
from .rq_backend import HEARTBEAT_KEY, heartbeat

log = logging.getLogger("soniquebay.worker")


def _preload(runtime) -> list[str]:
    loaded = []
    for info in runtime.host.enabled:
        for module in info.manifest.preload if info.manifest else ():
            importlib.import_module(module)
            loaded.append(module)
    return loaded


def _beat(client, name: str, ttl: int, stop: threading.Event) -> None:
    while not stop.wait(ttl / 3):
        try:
            heartbeat(client, name, ttl)
        except Exception as exc:  # Redis restarting: keep trying, the worker itself reconnects
            log.warning("heartbeat failed: %s", exc)


def run_worker(queues: list[str] | None, burst: bool, name: str | None = None) -> bool:
    runtime = rq_jobs.runtime()
    if runtime.redis is None:
        from ..errors import ConfigError

        raise ConfigError("a worker needs Redis: set redis_url (or SONIQUEBAY_REDIS_URL); without it jobs run "
                          "inside `soniquebay scan` and `soniquebay serve`")
    names = queues or list(CLASSES)
    loaded = _preload(runtime)
    worker_name = name or f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"
    ttl = runtime.settings.jobs.worker_heartbeat_s
    heartbeat(runtime.redis, worker_name, ttl)
    stop = threading.Event()
    threading.Thread(target=_beat, args=(runtime.redis, worker_name, ttl, stop), daemon=True).start()
    log.info("worker %s on %s (preloaded: %s)", worker_name, names, ", ".join(loaded) or "nothing")
    worker = SimpleWorker(worker_queue_names(names), connection=runtime.redis, name=worker_name)
    try:
        return worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
    finally:
        stop.set()
        runtime.redis.delete(f"{HEARTBEAT_KEY}{worker_name}")


def run_scheduler(burst: bool = False) -> None:
    """Register the periodic sweeps with rq-scheduler and run it."""
    from rq_scheduler import Scheduler

    from ..stages import now
    from .sweep import KINDS, period_of

    runtime = rq_jobs.runtime()
    scheduler = Scheduler(queue_name=worker_queue_names(["light"])[-1], connection=runtime.redis)
    for job in scheduler.get_jobs():
        if (job.meta or {}).get("soniquebay_periodic"):
            scheduler.cancel(job)
    for kind in (*KINDS, "maintenance"):
        func = rq_jobs.maintenance_job if kind == "maintenance" else rq_jobs.sweep_job
        args = () if kind == "maintenance" else (kind,)
        scheduler.schedule(scheduled_time=now(), func=func, args=args, interval=period_of(kind, runtime.settings.jobs),
                           repeat=None, meta={"soniquebay_periodic": kind}, result_ttl=600)
    scheduler.run(burst=burst)
