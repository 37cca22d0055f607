"""The functions RQ workers import and run. They take ids, never objects.

A worker process keeps one runtime (database engine, plugin host, event
loop) for all its jobs: building it per job would cost more than a no-op
stage. Failures the runner records as permanent are raised again here so
that RQ keeps the job, with the errors, in its failed registry.
"""
from __future__ import annotations

import asyncio

from .job import Job

_loop: asyncio.AbstractEventLoop | None = None
_runtime = None


class StageFailed(Exception):
    """Some targets of the job failed for good; their stage rows hold the tracebacks."""


def runtime():
    """This process's runtime, built on first use on a private event loop."""
    global _loop, _runtime
    if _runtime is None:
        from ..config import load_settings
        from ..plugins import load_plugins
        from ..runtime import Runtime

        settings = load_settings()
        _loop = asyncio.new_event_loop()
        _runtime = _loop.run_until_complete(Runtime.open(settings, load_plugins(settings)))
    return _runtime


def run(coro):
    runtime()
    assert _loop is not None
    return _loop.run_until_complete(coro)


def run_job(plugin: str, stage: str, bucket: int | None, ids: list[int], urgent: bool = False) -> dict:
    rt = runtime()
    job = Job(plugin, stage, bucket, tuple(ids), urgent)
    report = run(rt.runner.run(job))
    for follower in report.followers:
        run(rt.queue.enqueue(follower))
    if report.next_retry_at is not None:
        run(rt.queue.enqueue(job, at=report.next_retry_at))
    if report.failed:
        raise StageFailed(f"{report.failed} of {report.done + report.failed + report.retry} failed: "
                          + "; ".join(report.failures))
    return {"done": report.done, "retry": report.retry, "failed": report.failed, "seconds": report.seconds}


def sweep_job(kind: str) -> dict:
    from . import sweep

    return run(sweep.sweep(runtime(), kind))


def maintenance_job() -> None:
    from . import sweep

    run(sweep.maintenance(runtime()))
