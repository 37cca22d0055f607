"""The pipeline on RQ: real Redis, real worker processes, real databases.

Tests use Redis database 15 (flushed before and after) and, for the restart
test, a redis-server of their own on another port, so the machine's server
is never stopped.
"""
from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import install_entry_points, other_plugins_off_toml, server_missing
from sqlalchemy import func, select

from soniquebay_core.config import Settings
from soniquebay_core.models import Track, TrackStage
from soniquebay_core.plugins import load_plugins
from soniquebay_core.runtime import Runtime
from soniquebay_core.stages import stage_summary

SONIQUEBAY = str(Path(sys.executable).parent / "soniquebay")
FAKES = Path(__file__).parent / "fake_plugins"
TEST_REDIS = os.environ.get("SONIQUEBAY_TEST_REDIS", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url():
    import redis

    client = redis.Redis.from_url(TEST_REDIS)
    try:
        client.ping()
    except redis.RedisError as exc:
        server_missing(f"Redis at {TEST_REDIS}", exc)
    client.flushdb()
    yield TEST_REDIS
    client.flushdb()
    client.close()


class Env:
    """Config, data dir, database, Redis and installed fake plugins, shared by the test and its workers."""

    def __init__(self, tmp: Path, db_url: str, redis_url: str, plugins: dict[str, str], extra_config: str = ""):
        site = install_entry_points(tmp / "site", "sb-test-plugins", plugins)
        self.config = tmp / "config.toml"
        self.config.write_text(f"{extra_config}\n[jobs]\nworker_heartbeat_s = 3\n{other_plugins_off_toml()}")
        self.calls = tmp / "calls.log"
        self.vars = {"SONIQUEBAY_CONFIG": str(self.config), "SONIQUEBAY_DATA_DIR": str(tmp / "data"),
                     "SONIQUEBAY_DATABASE_URL": db_url, "SONIQUEBAY_REDIS_URL": redis_url,
                     "SB_CALL_LOG": str(self.calls), "PYTHONPATH": os.pathsep.join([str(site), str(FAKES)])}
        self.site = site

    def environ(self, **more: str) -> dict[str, str]:
        return {**os.environ, **self.vars, **more}

    def settings(self) -> Settings:
        from soniquebay_core.config import load_settings

        return load_settings(self.environ())

    async def runtime(self, monkeypatch) -> Runtime:
        monkeypatch.syspath_prepend(str(self.site))
        monkeypatch.syspath_prepend(str(FAKES))
        for key, value in self.vars.items():
            if key != "PYTHONPATH":
                monkeypatch.setenv(key, value)
        settings = self.settings()
        return await Runtime.open(settings, load_plugins(settings))

    def worker(self, *args: str, **env: str) -> subprocess.Popen:
        # its own process group: RQ forks a scheduler from the worker, and a killed machine takes both
        return subprocess.Popen([SONIQUEBAY, "worker", *args], env=self.environ(**env), start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([SONIQUEBAY, *args], env=self.environ(**env), capture_output=True, text=True,
                              timeout=300)

    def call_counts(self) -> collections.Counter:
        if not self.calls.exists():
            return collections.Counter()
        return collections.Counter(tuple(line.split()[:2]) for line in self.calls.read_text().splitlines())


def finish(proc: subprocess.Popen, timeout: float = 240) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"worker exited {proc.returncode}:\n{out[-3000:]}"
    return out


async def summary(runtime: Runtime) -> dict[str, tuple[int, int, int]]:
    async with runtime.db.engine.connect() as conn:
        return {f"{s['plugin']}.{s['stage']}": (s["done"], s["pending"], s["failed"])
                for s in await stage_summary(conn, runtime.host)}


async def test_two_burst_workers_run_every_stage_once(tmp_path, db_url, redis_url, library, monkeypatch):
    root, _ = library
    env = Env(tmp_path, db_url, redis_url, {"stages": "sb_stages"})
    runtime = await env.runtime(monkeypatch)
    try:
        result = await runtime.scan([root])  # scanning enqueues; nothing runs in this process
        assert await summary(runtime) == {f"stages.{s}": (0, result.counts.new, 0)
                                          for s in ("enrich_track", "fetch_cover", "vectorize")}
        assert sum(n for n in runtime.queue.depths().values()) > 3
        assert sum((await runtime.sweep()).values()) == 0  # a second sweep adds no duplicates

        workers = [env.worker("--burst"), env.worker("--burst")]
        for w in workers:
            finish(w)
        tracks = result.counts.new
        assert await summary(runtime) == {f"stages.{s}": (tracks, 0, 0)
                                          for s in ("enrich_track", "fetch_cover", "vectorize")}
        counts = env.call_counts()
        assert set(counts.values()) == {1}, "a target was processed twice"
        assert sum(1 for stage, _ in counts if stage == "vectorize") == tracks
        pids = {line.split()[2] for line in env.calls.read_text().splitlines()}
        assert len(pids) == 2, "both workers took jobs"
        metrics = {(m["plugin"], m["stage"]): m for m in runtime.metrics.snapshot()}
        assert metrics[("stages", "enrich_track")]["done"] == tracks
    finally:
        await runtime.close()


async def test_killed_worker_job_completes_after_restart_and_sweep(tmp_path, db_url, redis_url, library,
                                                                  monkeypatch):
    root, _ = library
    env = Env(tmp_path, db_url, redis_url, {"stages": "sb_stages"})
    runtime = await env.runtime(monkeypatch)
    try:
        result = await runtime.scan([root])
        worker = env.worker("--queues", "light", SB_STAGE_DELAY="0.05")
        deadline = time.monotonic() + 60
        while len(env.call_counts()) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(worker.pid, signal.SIGKILL)  # in the middle of a job
        worker.wait()
        killed_at = len(env.calls.read_text().splitlines())
        assert 10 <= killed_at < result.counts.new * 3
        time.sleep(3.5)  # the dead worker's heartbeat expires

        assert sum((await runtime.sweep()).values()) >= 1  # the abandoned job is enqueued again
        finish(env.worker("--burst"))
        tracks = result.counts.new
        assert await summary(runtime) == {f"stages.{s}": (tracks, 0, 0)
                                          for s in ("enrich_track", "fetch_cover", "vectorize")}
        counts = env.call_counts()
        twice = [k for k, n in counts.items() if n > 1]
        assert len(twice) < 64, "only the killed job's targets may have been called twice"
        async with runtime.db.engine.connect() as conn:  # one result per track and stage, nothing duplicated
            rows = await conn.scalar(select(func.count()).select_from(TrackStage))
        assert rows == tracks * 3
    finally:
        await runtime.close()


async def test_redis_restarted_mid_run_recovers(tmp_path, pg_url, library, monkeypatch):
    root, _ = library
    server = shutil.which("redis-server")
    if server is None:
        server_missing("redis-server binary", "not on PATH")
    port = 6391 + os.getpid() % 500

    def start_redis() -> subprocess.Popen:
        proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no"], stdout=subprocess.DEVNULL)
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() == b"PONG":
                return proc
            time.sleep(0.05)
        raise AssertionError("private redis-server did not start")

    redis_proc = start_redis()
    url = f"redis://127.0.0.1:{port}/0"
    env = Env(tmp_path, pg_url, url, {"stages": "sb_stages"})
    runtime = await env.runtime(monkeypatch)
    try:
        result = await runtime.scan([root])
        worker = env.worker("--burst", SB_STAGE_DELAY="0.01")
        while len(env.call_counts()) < 20:
            time.sleep(0.05)
        redis_proc.kill()  # everything queued in Redis is lost
        redis_proc.wait()
        worker.wait(timeout=120)  # the worker cannot go on without Redis
        redis_proc = start_redis()
        runtime.redis.connection_pool.reset()

        await runtime.sweep()  # the database still knows what is pending
        finish(env.worker("--burst"))
        tracks = result.counts.new
        assert await summary(runtime) == {f"stages.{s}": (tracks, 0, 0)
                                          for s in ("enrich_track", "fetch_cover", "vectorize")}
    finally:
        await runtime.close()
        redis_proc.kill()
        redis_proc.wait()


async def test_failed_jobs_inspectable_and_retried(tmp_path, db_url, redis_url, monkeypatch):
    from soniquebay_core.demo import make_demo_library

    make_demo_library(tmp_path / "demo")
    env = Env(tmp_path, db_url, redis_url, {"broken_stage": "sb_broken_stage"})
    runtime = await env.runtime(monkeypatch)
    try:
        await runtime.scan([tmp_path / "demo"])
        finish(env.worker("--burst"))
        failed = json.loads(env.cli("jobs", "failed", "--format", "json").stdout)
        assert len(failed["stages"]) == 23
        assert all("ValueError: cannot make sense of" in f["error"] for f in failed["stages"])
        assert failed["rq_failed_jobs"] and "StageFailed" in failed["rq_failed_jobs"][0]["error"]

        retried = env.cli("jobs", "retry", "--all")
        assert retried.returncode == 0 and "Retrying 23 tracks" in retried.stdout
        assert json.loads(env.cli("jobs", "failed", "--format", "json").stdout) == {"stages": [],
                                                                                    "rq_failed_jobs": []}
        finish(env.worker("--burst"))  # the urgent jobs run (and fail again: the plugin is broken)
        again = json.loads(env.cli("jobs", "failed", "--format", "json").stdout)
        assert len(again["stages"]) == 23
    finally:
        await runtime.close()


async def test_scheduler_enqueues_periodic_sweeps(tmp_path, db_url, redis_url, monkeypatch):
    from soniquebay_core.demo import make_demo_library

    make_demo_library(tmp_path / "demo")
    env = Env(tmp_path, db_url, redis_url, {"stages": "sb_stages"})
    runtime = await env.runtime(monkeypatch)
    try:
        await runtime.scan([tmp_path / "demo"], sweep=False)  # nothing enqueued by the scan
        assert sum(runtime.queue.depths().values()) == 0
        scheduled = env.cli("scheduler", "--burst")
        assert scheduled.returncode == 0, scheduled.stderr
        finish(env.worker("--burst"))  # runs the sweeps, then the jobs they enqueue
        assert await summary(runtime) == {f"stages.{s}": (23, 0, 0)
                                          for s in ("enrich_track", "fetch_cover", "vectorize")}
    finally:
        await runtime.close()


def test_doctor_sees_workers_and_unreachable_redis(tmp_path, db_url, redis_url):
    env = Env(tmp_path, db_url, redis_url, {"stages": "sb_stages"})
    worker = env.worker()
    try:
        import redis

        client = redis.Redis.from_url(redis_url)
        for _ in range(200):
            if list(client.scan_iter("soniquebay:worker:*")):
                break
            time.sleep(0.05)
        report = {f["check"]: f for f in json.loads(env.cli("doctor", "--format", "json").stdout)}
        assert report["redis"]["level"] == "ok"
        assert report["workers"]["level"] == "ok" and "1 alive" in report["workers"]["detail"]
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

    down = env.cli("process", SONIQUEBAY_REDIS_URL="redis://127.0.0.1:1/0")
    assert down.returncode == 1
    assert down.stderr.strip().startswith("soniquebay: cannot reach Redis at redis://127.0.0.1:1/0")
    assert "Traceback" not in down.stderr
    doctor = env.cli("doctor", SONIQUEBAY_REDIS_URL="redis://127.0.0.1:1/0")
    assert doctor.returncode == 1 and "FAIL redis: cannot reach Redis" in doctor.stdout


def test_worker_without_redis_says_so(tmp_path, db_url):
    env = Env(tmp_path, db_url, "", {})
    proc = env.cli("worker", "--burst")
    assert proc.returncode == 1 and "a worker needs Redis" in proc.stderr


async def test_redis_event_bus_crosses_processes(redis_url):
    """What a worker publishes, another process (the server, `soniquebay events`) receives."""
    import asyncio

    from soniquebay_core.pipeline.events import RedisBus

    listener, publisher = RedisBus(redis_url), RedisBus(redis_url)
    received: list[dict] = []

    async def listen():
        async for event in listener.subscribe():
            received.append(event)
            if len(received) == 2:
                return

    task = asyncio.get_running_loop().create_task(listen())
    await asyncio.sleep(0.2)  # subscribed
    await publisher.publish({"type": "stage.job", "task_id": "stage:x.y", "done": 3})
    await publisher.publish({"type": "scan.done", "task_id": "scan:1"})
    await asyncio.wait_for(task, 5)
    assert [e["type"] for e in received] == ["stage.job", "scan.done"]
    assert received[0]["done"] == 3 and received[0]["id"] == 1 and received[0]["ts"] > 0
    await listener.close()
    await publisher.close()


async def test_limits_hold_across_workers(tmp_path, db_url, redis_url, monkeypatch):
    """On the pi profile a heavy plugin runs one call at a time in all workers together, and its
    minimum interval between calls holds across workers too."""
    from soniquebay_core.demo import make_demo_library

    make_demo_library(tmp_path / "demo")
    env = Env(tmp_path, db_url, redis_url, {"limited": "sb_limited"},
              extra_config='profile = "pi"\n[plugins.limited]\nenabled = true')
    runtime = await env.runtime(monkeypatch)
    try:
        await runtime.scan([tmp_path / "demo"], sweep=False)
        async with runtime.db.engine.connect() as conn:
            ids = (await conn.execute(select(Track.id))).scalars().all()
        for track_id in ids:  # one job per track, so that the two workers compete
            await runtime.analyse_now([track_id])
        # not --burst: with one heavy call allowed at a time, a burst worker would find the queue
        # empty and leave; two long-running workers wait on the queue and take turns
        workers = [env.worker(), env.worker()]
        deadline = time.monotonic() + 120
        while len(env.call_counts()) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.1)
        for w in workers:
            w.send_signal(signal.SIGTERM)
            w.wait(timeout=30)
        spans = sorted((float(a), float(b), pid) for _, _, pid, a, b in
                       (line.split() for line in env.calls.read_text().splitlines()))
        assert len(spans) == len(ids) and len({pid for *_, pid in spans}) == 2
        for (start, end, _), (next_start, _, _) in zip(spans, spans[1:], strict=False):
            assert next_start >= end - 0.005, "two heavy calls overlapped on the pi profile"
            assert next_start - start >= 0.029, "calls closer than min_interval_ms"
    finally:
        await runtime.close()


async def test_worker_preloads_heavy_modules_once(tmp_path, db_url, redis_url, monkeypatch):
    from soniquebay_core.demo import make_demo_library

    make_demo_library(tmp_path / "demo")
    env = Env(tmp_path, db_url, redis_url, {"preloading": "sb_preloading"})
    runtime = await env.runtime(monkeypatch)
    try:
        await runtime.scan([tmp_path / "demo"], sweep=False)
        async with runtime.db.engine.connect() as conn:
            ids = (await conn.execute(select(Track.id))).scalars().all()
        for track_id in ids:  # 23 jobs
            await runtime.analyse_now([track_id])
        finish(env.worker("--burst"))
        lines = [line.split() for line in env.calls.read_text().splitlines()]
        assert lines[0][:2] == ["import", "sb_heavy_lib"], "imported before the first job"
        assert sum(1 for line in lines if line[0] == "import") == 1
        assert sum(1 for line in lines if line[0] == "vectorize") == len(ids)
    finally:
        await runtime.close()
