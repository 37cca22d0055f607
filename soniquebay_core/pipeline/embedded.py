"""Jobs inside the soniquebay process: the embedded default, no Redis.

A bounded pool of asyncio tasks takes jobs from one priority queue (urgent
first); the plugin calls themselves run in threads (see dispatch.call_one) so
the event loop, and the web server sharing it, stay responsive. Planned
retries wait on timers; a restart forgets the timers but not the work: the
stage rows say what is due and the next sweep enqueues it. A job enqueued while
the same job runs runs again after it: what it is asked for may have become due
after the running one looked.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import datetime

from ..stages import now
from .job import Job
from .runner import StageRunner

log = logging.getLogger("soniquebay.pipeline")


class EmbeddedQueue:
    def __init__(self, runner: StageRunner, workers: int = 2):
        self.runner = runner
        self.workers = max(1, workers)
        self._queue: asyncio.PriorityQueue = asyncio.PriorityQueue()
        self._order = itertools.count()
        self._active: set[str] = set()  # queued or running job ids
        self._running: set[str] = set()
        self._again: set[str] = set()  # running jobs to queue again when they end
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: list[asyncio.Task] = []
        self._idle = asyncio.Event()
        self._idle.set()

    async def enqueue(self, job: Job, at: datetime | None = None) -> bool:
        """Queue a job unless the same one is already queued; ``at`` defers it."""
        if at is None and job.id in self._running:
            self._again.add(job.id)
            return True
        if job.id in self._active or (at is None and job.id in self._timers):
            return False
        delay = (at - now()).total_seconds() if at else 0
        if delay > 0:
            if job.id not in self._timers:
                loop = asyncio.get_running_loop()
                self._timers[job.id] = loop.call_later(delay, self._fire, job)
            return True
        self._active.add(job.id)
        self._idle.clear()
        self._queue.put_nowait((0 if job.urgent else 1, next(self._order), job))
        self._start_workers()
        return True

    def _fire(self, job: Job) -> None:
        self._timers.pop(job.id, None)
        asyncio.get_running_loop().create_task(self.enqueue(job))

    def _start_workers(self) -> None:
        self._tasks = [t for t in self._tasks if not t.done()]
        while len(self._tasks) < self.workers:
            self._tasks.append(asyncio.get_running_loop().create_task(self._work()))

    async def _work(self) -> None:
        while True:
            _, _, job = await self._queue.get()
            report = None
            self._running.add(job.id)
            try:
                report = await self.runner.run(job)
            except Exception:  # the runner records plugin failures; this is the core failing
                log.exception("job %s crashed", job.id)
            finally:
                self._running.discard(job.id)
                self._active.discard(job.id)
                self._queue.task_done()
            if job.id in self._again:
                self._again.discard(job.id)
                await self.enqueue(job)
            if report is not None:
                for follower in report.followers:
                    await self.enqueue(follower)
                if report.next_retry_at is not None:
                    await self.enqueue(job, at=report.next_retry_at)
            if not self._active:
                self._idle.set()

    async def join(self, retries: bool = False) -> None:
        """Wait until nothing is queued or running (and, with ``retries``, no retry is planned)."""
        while True:
            await self._idle.wait()
            if not retries or not self._timers:
                return
            await asyncio.sleep(0.05)

    def depths(self) -> dict[str, int]:
        return {"embedded": self._queue.qsize(), "embedded-planned": len(self._timers)}

    async def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
