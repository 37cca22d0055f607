"""Everything a SoniqueBay process needs, built once: settings, plugins, database, jobs, events.

The command line, the RQ worker and (later) the server all start from
``Runtime.open``. Whether jobs run inside the process or on RQ is decided here,
by one setting: ``redis_url``.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from . import settings_store
from .config import Settings
from .db import Database
from .pipeline import sweep as sweeps
from .pipeline.embedded import EmbeddedQueue
from .pipeline.events import EventBus, LocalBus
from .pipeline.limits import Limits
from .pipeline.metrics import Metrics
from .pipeline.runner import StageRunner
from .plugins import PluginHost, load_plugins
from .scanner.scan import Scanner, ScanProgress, ScanResult

log = logging.getLogger("soniquebay")


class Runtime:
    def __init__(self, settings: Settings, host: PluginHost, db: Database, events: EventBus, metrics: Metrics,
                 limits: Limits, redis_client=None):
        self.base_settings = settings  # from the config file and environment
        self.settings = settings  # with the overrides stored in the database
        self.host = host
        self.db = db
        self.events = events
        self.metrics = metrics
        self.limits = limits
        self.redis = redis_client
        self.runner = StageRunner(db, host, settings.data_dir, limits, metrics, events)
        if redis_client is None:
            self.queue = EmbeddedQueue(self.runner, settings.jobs.embedded_workers)
        else:
            from .pipeline.rq_backend import RQQueue

            self.queue = RQQueue(redis_client, host, limits)
        self._periodic: list[asyncio.Task] = []

    @property
    def embedded(self) -> bool:
        return self.redis is None

    @classmethod
    async def open(cls, settings: Settings, host: PluginHost) -> Runtime:
        redis_client = None
        if settings.redis_url:
            from .pipeline.events import RedisBus
            from .pipeline.metrics import RedisMetrics
            from .pipeline.rq_backend import connect

            redis_client = connect(settings.redis_url)
            events: EventBus = RedisBus(settings.redis_url)
            metrics: Metrics = RedisMetrics(redis_client)
        else:
            events, metrics = LocalBus(), Metrics()
        db = await Database.open(settings.effective_database_url)
        runtime = cls(settings, host, db, events, metrics, Limits(settings.profile, redis_client), redis_client)
        await runtime.apply_stored_settings()
        return runtime

    async def apply_stored_settings(self) -> None:
        """Lay the overrides stored in the database over the config; reload plugins if theirs changed."""
        async with self.db.engine.connect() as conn:
            overrides = await settings_store.read(conn, settings_store.OVERRIDES, {})
        settings = settings_store.overlay(self.base_settings, overrides)
        replugged = (settings.plugins, settings.profile) != (self.settings.plugins, self.settings.profile)
        self.settings = settings
        self.limits.profile = settings.profile  # heavy plugins one at a time on a Pi, from now on
        if not replugged:
            return
        entry_points_group, modules = self.host.recipe
        self.host = load_plugins(settings, strict=self.host.dispatch.strict, entry_points_group=entry_points_group,
                                 modules=modules)
        self.runner.host = self.host
        if not self.embedded:
            self.queue.host = self.host

    async def change_settings(self, patch: dict) -> None:
        """Store a patch of the changeable settings (validated first), then apply it."""
        async with self.db.engine.begin() as conn:
            stored = await settings_store.read(conn, settings_store.OVERRIDES, {})
            overrides = settings_store.patched(stored, patch, self.settings.model_dump(mode="json"))
            settings_store.check_new_roots(patch)
            settings_store.overlay(self.base_settings, overrides)  # refuses what the config file would refuse
            await settings_store.write(conn, settings_store.OVERRIDES, overrides)
        await self.apply_stored_settings()

    async def switch_plugin(self, plugin_id: str, enabled: bool) -> None:
        await self.change_settings({"plugins": {plugin_id: {"enabled": enabled}}})

    async def close(self) -> None:
        for task in self._periodic:
            task.cancel()
        await asyncio.gather(*self._periodic, return_exceptions=True)
        await self.queue.close()
        await self.events.close()
        await self.db.close()

    # -- what commands do -------------------------------------------------------------------------

    async def scan(self, paths: list[Path] | None, full: bool = False, progress=None,
                   sweep: bool = True) -> ScanResult:
        """Scan, publishing progress events; with ``sweep`` the stages due are enqueued right after."""
        def report(p: ScanProgress) -> None:
            if progress is not None:
                progress(p)
            asyncio.get_running_loop().create_task(self.events.publish({
                "type": "scan.progress" if p.phase != "done" else "scan.done", "task_id": f"scan:{p.scan_id}",
                "stage": "scan", "phase": p.phase, "current": p.counts.files_seen, "total": None, "percent": None,
                "files_per_second": round(p.files_per_second, 1), "new": p.counts.new,
                "changed": p.counts.changed, "errors": p.counts.errors}))

        result = await Scanner(self.db, self.host, self.settings, progress=report).scan(paths, full=full)
        if sweep:
            await self.sweep()
        return result

    async def sweep(self, kind: str = "retries") -> dict[str, int]:
        return await sweeps.sweep(self, kind)

    async def analyse_now(self, track_ids: list[int], hooks: tuple[str, ...] | None = None) -> int:
        return await sweeps.analyse_now(self, track_ids, hooks)

    async def wait_idle(self, retries: bool = False) -> None:
        """Embedded mode: until every queued job has run. RQ mode: nothing to wait for here."""
        if isinstance(self.queue, EmbeddedQueue):
            await self.queue.join(retries=retries)

    def start_periodic_sweeps(self) -> None:
        """Embedded mode's timers: what rq-scheduler does for RQ workers."""
        for kind in (*sweeps.KINDS, "maintenance"):
            self._periodic.append(asyncio.get_running_loop().create_task(self._every(kind)))

    async def _every(self, kind: str) -> None:
        period = sweeps.period_of(kind, self.settings.jobs)
        while True:
            await asyncio.sleep(period)
            try:
                if kind == "maintenance":
                    await sweeps.maintenance(self)
                else:
                    await self.sweep(kind)
            except Exception:
                log.exception("periodic %s sweep failed; trying again in %s s", kind, period)
