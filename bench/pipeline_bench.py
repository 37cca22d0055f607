#!/usr/bin/env python3
"""Pipeline benchmark: what the job machinery costs per track and stage, and what idle workers cost.

    .venv/bin/python bench/pipeline_bench.py [--tracks 10000] [--no-postgres] [--out FILE]

The plugin is bench/noop_plugin (manifest id ``bench_noop``): its
``enrich_track`` answers None, so the core has nothing to write but the stage
state, and what is measured is the pipeline itself (sweep, queue, runner,
stage-state transaction, events, metrics). It is installed by putting
bench/noop_plugin, which holds its ``*.dist-info``, on ``sys.path`` (this
process) and ``PYTHONPATH`` (the workers). No other stage plugin is installed,
so there is one stage; ms per track per stage = elapsed / (tracks x stages).

Setup, timed but judged by no bar: the generated library cached by
scan_bench.py (WORK/lib-N-seed1/music, generated with make_library.py when
absent) is scanned once with ``soniquebay scan --no-stages`` into a fresh
SQLite data dir. Each measured run starts from its own copy of that database
file: every track pending for every stage, nothing queued.

1. Embedded mode (no Redis), SQLite, in this process:
   ``Runtime.open(settings, load_plugins(settings))`` (reported apart as
   ``open_s``), then ``await runtime.sweep()`` + ``await runtime.wait_idle()``
   is timed. Jobs run: the runtime's metrics. Bar: <= 0.5 ms per track per stage.
2. Redis mode, 2 workers (Redis DB 14, FLUSHDB before and after), on SQLite
   and, unless --no-postgres or unreachable, on PostgreSQL (a fresh database
   ``sb_bench_<random>``, scanned into the same way, dropped afterwards).
   Two ``soniquebay worker`` processes are started first (not ``--burst``: a
   burst worker started before the sweep finds empty queues and quits, and one
   started after it would put its own start-up into the time) and waited for
   until RQ lists both as idle, i.e. with their runtime loaded; that start-up
   is reported apart (``worker_startup_s``). Then timed: from the sweep
   (the enqueueing, done here as ``soniquebay scan`` would) until the stage
   state of every pending target is committed. That moment is read from the
   workers' metrics in Redis, which a job updates only after its transaction
   has committed: polled every 20 ms with one HGETALL, which, unlike polling
   ``stage_summary``, puts no load on the database being measured. The
   database is checked afterwards (``stage_summary``: nothing pending or
   failed). Nothing is subtracted. Bar: <= 2 ms per track per stage (SQLite;
   PostgreSQL is judged by the same target).
3. Idle workers: 2 ``soniquebay worker`` processes on empty queues. Once RQ
   lists both as idle and SETTLE_S seconds more have passed, each worker's
   CPU time and memory are sampled every second for --idle-seconds (10).
   CPU% = CPU time (user + system) / wall time, for the worker process and the
   processes it forked (RQ forks its scheduler from the worker that wins the
   scheduler lock). RSS = the worker process's highest RSS; the tree's summed
   RSS and PSS are reported too (the forked scheduler shares most pages).
   Bars: CPU < 1 % and RSS < 120 MB, each worker. Stopped with SIGTERM.

--profile adds an embedded run under cProfile (not used for any bar) and
prints where its time goes.

Results: bench/results/pipeline.json (--out); a table goes to stderr.
Exit status: 0, or 1 with --fail-on-bars when a bar fails, 2 on a harness error.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import hashlib
import io
import json
import os
import platform
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
from scan_bench import BenchError, ensure_library, log  # bench/ is on sys.path when run; one owner of each
from sqlalchemy import func, select

from soniquebay_core.config import load_settings
from soniquebay_core.models import Track
from soniquebay_core.plugins import load_plugins
from soniquebay_core.runtime import Runtime
from soniquebay_core.stages import BUCKET, stage_summary

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
NOOP_DIR = BENCH_DIR / "noop_plugin"
SONIQUEBAY = str(Path(sys.executable).parent / "soniquebay")
DEFAULT_OUT = BENCH_DIR / "results" / "pipeline.json"
DEFAULT_WORK = Path(tempfile.gettempdir()) / "soniquebay-bench"
DEFAULT_MAKE_LIBRARY = Path("/work/shared/tools/make_library.py")
DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/14"  # this bench's own DB number: flushed before and after
SEED = 1
WORKERS = 2
SETTLE_S = 2.0
POLL_S = 0.02
MB = 1024 * 1024

BARS = {  # name: (description, comparison, target)
    "embedded_ms_per_track_stage": ("embedded mode, SQLite: ms per track per stage", "<=", 0.5),
    "redis_ms_per_track_stage": ("Redis, 2 workers, SQLite: ms per track per stage", "<=", 2.0),
    "redis_postgres_ms_per_track_stage": ("Redis, 2 workers, PostgreSQL: ms per track per stage", "<=", 2.0),
    "idle_worker_cpu_percent": ("idle worker CPU % (worker + its forks), the busier of the 2", "<", 1.0),
    "idle_worker_rss_mb": ("idle worker RSS, MB, the larger of the 2", "<", 120.0),
}

sys.path.insert(0, str(NOOP_DIR))  # installs the no-op plugin: entry points are read when plugins load


# ---------------------------------------------------------------------------
# Environment: one config, one data dir per run, the plugin on the path
# ---------------------------------------------------------------------------

@dataclass
class Env:
    scratch: Path

    def __post_init__(self):
        # SONIQUEBAY_CONFIG must name an existing file; an empty one keeps the user's config out.
        self.config = self.scratch / "config.toml"
        self.config.write_text("")

    def vars(self, data_dir: Path, database_url: str | None = None, redis_url: str | None = None) -> dict:
        return {"SONIQUEBAY_CONFIG": str(self.config), "SONIQUEBAY_DATA_DIR": str(data_dir),
                "SONIQUEBAY_DATABASE_URL": database_url or "", "SONIQUEBAY_REDIS_URL": redis_url or ""}

    def environ(self, data_dir: Path, database_url: str | None = None, redis_url: str | None = None) -> dict:
        """For subprocesses: this one's environment without SONIQUEBAY_*, plus ours and the plugin."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SONIQUEBAY_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NOOP_DIR), env.get("PYTHONPATH")]))
        return {**env, **self.vars(data_dir, database_url, redis_url)}

    def settings(self, data_dir: Path, database_url: str | None = None, redis_url: str | None = None):
        return load_settings(self.vars(data_dir, database_url, redis_url))

    def data_dir(self, name: str) -> Path:
        path = self.scratch / name
        path.mkdir()
        return path


async def open_runtime(settings) -> tuple[Runtime, float]:
    t0 = time.perf_counter()
    runtime = await Runtime.open(settings, load_plugins(settings))
    return runtime, time.perf_counter() - t0


async def summary(runtime: Runtime) -> list[dict]:
    async with runtime.db.engine.connect() as conn:
        return await stage_summary(conn, runtime.host)


async def track_count(runtime: Runtime) -> int:
    async with runtime.db.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(Track).where(Track.missing.is_(False)))


def check_complete(rows: list[dict]) -> list[str]:
    return [f"{r['plugin']}.{r['stage']}: {r['pending']} pending, {r['failed']} failed"
            for r in rows if r["pending"] or r["failed"]]


# ---------------------------------------------------------------------------
# The library database
# ---------------------------------------------------------------------------

def ensure_music(work: Path, tracks: int, make_library: Path) -> Path:
    """The generated library scan_bench.py caches (WORK/lib-N-seed1/music); it generates it when absent."""

    return ensure_library(work, tracks, SEED, sys.executable, make_library).path


def scan(env: Env, music: Path, data_dir: Path, database_url: str | None = None) -> dict:
    """``soniquebay scan --no-stages`` into the data dir (or database): the bench's starting point."""
    t0 = time.perf_counter()
    done = subprocess.run([SONIQUEBAY, "scan", str(music), "--no-stages", "--format", "json"],
                          env=env.environ(data_dir, database_url), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise BenchError(f"soniquebay scan exited {done.returncode}: {done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    return {"wall_s": round(wall, 3), "scanner_s": result["duration_s"], "new": result["new"],
            "errors": result["errors"]}


def copy_database(template: Path, data_dir: Path) -> None:
    """The template's SQLite file (and WAL files, if any) into a run's data dir."""
    for path in template.glob("library.db*"):
        shutil.copy2(path, data_dir / path.name)


# ---------------------------------------------------------------------------
# 1. Embedded mode
# ---------------------------------------------------------------------------

async def run_embedded(env: Env, template: Path, name: str, profiler: cProfile.Profile | None = None) -> dict:
    data_dir = env.data_dir(name)
    copy_database(template, data_dir)
    runtime, open_s = await open_runtime(env.settings(data_dir))
    try:
        tracks = await track_count(runtime)
        rows = await summary(runtime)
        targets, stages = sum(r["pending"] for r in rows), len(rows)
        cpu0, t0 = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        enqueued = await runtime.sweep()
        t_enqueued = time.perf_counter()
        await runtime.wait_idle()
        if profiler:
            profiler.disable()
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        rows = await summary(runtime)
        jobs = sum(int(m["jobs"]) for m in runtime.metrics.snapshot())
    finally:
        await runtime.close()
    return result_of("embedded", "sqlite", tracks, stages, targets, elapsed, rows,
                     open_s=round(open_s, 3), enqueue_s=round(t_enqueued - t0, 4), jobs_enqueued=enqueued,
                     jobs_with_work=jobs, process_cpu_s=round(cpu, 3))


def result_of(mode: str, database: str, tracks: int, stages: int, targets: int, elapsed: float, rows: list[dict],
              **extra) -> dict:
    return {"mode": mode, "database": database, "tracks": tracks, "stages": stages, "targets": targets,
            "elapsed_s": round(elapsed, 4),
            "ms_per_track_stage": round(elapsed * 1000 / (tracks * stages), 4) if tracks and stages else None,
            "targets_per_second": round(targets / elapsed, 1) if elapsed else None,
            **extra, "stage_summary": rows, "incomplete": check_complete(rows)}


def profile_top(profiler: cProfile.Profile, count: int = 25) -> dict[str, list[dict]]:
    """The top functions by own time and by cumulative time."""
    stats = pstats.Stats(profiler, stream=io.StringIO())
    top = {}
    for key, sort in (("by_tottime", "tottime"), ("by_cumtime", "cumulative")):
        entries = sorted(stats.stats.items(), key=lambda kv: kv[1][2 if sort == "tottime" else 3], reverse=True)
        top[key] = [{"function": f"{Path(file).name}:{line}({fn})" if line else fn, "ncalls": nc,
                     "tottime": round(tt, 4), "cumtime": round(ct, 4)}
                    for (file, line, fn), (_cc, nc, tt, ct, _callers) in entries[:count]]
    return top


# ---------------------------------------------------------------------------
# 2. Redis mode: worker processes
# ---------------------------------------------------------------------------

def redis_client():
    import redis

    return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)


@asynccontextmanager
async def clean_redis():
    """Redis DB 14, flushed before and after; never any other DB."""
    client = redis_client()
    client.ping()
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


class Workers:
    """``soniquebay worker`` processes started by the bench; stopped with SIGTERM, by pid."""

    def __init__(self, env: dict, count: int, logs: Path, client):
        self.env, self.count, self.logs, self.redis = env, count, logs, client
        self.names = [f"bench-{os.getpid()}-{i}" for i in range(count)]
        self.procs: list[subprocess.Popen] = []

    def start(self, timeout_s: float = 120) -> float:
        """Start them; return the seconds until RQ lists every one as idle (runtime loaded)."""
        t0 = time.perf_counter()
        for name in self.names:
            with open(self.logs / f"{name}.log", "w") as out:
                self.procs.append(subprocess.Popen([SONIQUEBAY, "worker", "--name", name], env=self.env,
                                                   stdout=out, stderr=subprocess.STDOUT))
        while time.perf_counter() - t0 < timeout_s:
            self.check_alive()
            states = self.states()
            if len(states) == self.count and all(state == "idle" for state in states.values()):
                return time.perf_counter() - t0
            time.sleep(0.02)
        raise BenchError(f"workers not idle after {timeout_s:.0f} s: {self.states()}")

    def rq_workers(self) -> list:
        from rq import Worker

        return [w for w in Worker.all(connection=self.redis) if w.name in self.names]

    def states(self) -> dict[str, str]:
        return {w.name: w.get_state() for w in self.rq_workers()}

    def job_counts(self) -> dict[str, dict]:
        return {w.name: {"successful_jobs": w.successful_job_count, "failed_jobs": w.failed_job_count,
                         "working_s": round(w.total_working_time, 3)} for w in self.rq_workers()}

    def cpu_s(self) -> dict[str, float]:
        """CPU time so far of each worker process and the processes it forked."""
        return {name: round(tree_cpu_s(p.pid), 3) for name, p in zip(self.names, self.procs)}

    def check_alive(self) -> None:
        for name, proc in zip(self.names, self.procs):
            if proc.poll() is not None:
                tail = (self.logs / f"{name}.log").read_text()[-2000:]
                raise BenchError(f"worker {name} exited {proc.returncode}:\n{tail}")

    def stop(self, timeout_s: float = 30) -> dict:
        """SIGTERM (RQ's warm shutdown), then wait; a worker still there after timeout_s is killed."""
        t0 = time.perf_counter()
        forks = {p.pid: [c.pid for c in psutil.Process(p.pid).children(recursive=True)]
                 for p in self.procs if p.poll() is None}
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = []
        for proc in self.procs:
            try:
                codes.append(proc.wait(timeout=max(1.0, timeout_s - (time.perf_counter() - t0))))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(proc.wait())
        leftovers = [pid for pids in forks.values() for pid in pids if psutil.pid_exists(pid)]
        for pid in leftovers:  # a fork of one of our workers that outlived it
            try:
                psutil.Process(pid).kill()
            except psutil.Error:
                pass
        return {"returncodes": codes, "stop_s": round(time.perf_counter() - t0, 3), "leftover_forks": leftovers}


def family(pid: int) -> list[psutil.Process]:
    """The process and every process it forked (RQ's scheduler)."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def tree_cpu_s(pid: int) -> float:
    """CPU time so far of a process and its forks (0 for any that is gone)."""
    total = 0.0
    try:
        procs = family(pid)
    except psutil.Error:
        return total
    for proc in procs:
        try:
            total += cpu_seconds(proc)
        except psutil.Error:
            continue
    return total


async def wait_recorded(runtime: Runtime, targets: int, workers: Workers, timeout_s: float) -> float:
    """Poll the workers' metrics until every target is recorded; return perf_counter() at that moment."""
    deadline = time.perf_counter() + timeout_s
    while True:
        recorded = sum(int(m["done"] + m["failed"] + m["retry"]) for m in runtime.metrics.snapshot())
        now = time.perf_counter()
        if recorded >= targets:
            return now
        if now > deadline:
            raise BenchError(f"after {timeout_s:.0f} s only {recorded} of {targets} targets recorded")
        workers.check_alive()
        await asyncio.sleep(POLL_S)


async def run_redis(env: Env, data_dir: Path, database: str, database_url: str | None, timeout_s: float) -> dict:
    async with clean_redis() as client:
        workers = Workers(env.environ(data_dir, database_url, REDIS_URL), WORKERS, data_dir, client)
        runtime, open_s = await open_runtime(env.settings(data_dir, database_url, REDIS_URL))
        try:
            startup_s = workers.start()
            tracks = await track_count(runtime)
            rows = await summary(runtime)
            targets, stages = sum(r["pending"] for r in rows), len(rows)
            cpu0 = workers.cpu_s()
            t0 = time.perf_counter()
            enqueued = await runtime.sweep()
            t_enqueued = time.perf_counter()
            t_end = await wait_recorded(runtime, targets, workers, timeout_s)
            elapsed = t_end - t0
            cpu1 = workers.cpu_s()
            rows = await summary(runtime)
            jobs = sum(int(m["jobs"]) for m in runtime.metrics.snapshot())
            per_worker = workers.job_counts()
            for name in per_worker:
                per_worker[name]["cpu_s"] = round(cpu1[name] - cpu0[name], 3)
        finally:
            stopped = workers.stop()
            await runtime.close()
    return result_of("redis", database, tracks, stages, targets, elapsed, rows, workers=WORKERS,
                     worker_startup_s=round(startup_s, 3), harness_open_s=round(open_s, 3),
                     enqueue_s=round(t_enqueued - t0, 4), jobs_enqueued=enqueued, jobs_with_work=jobs,
                     per_worker=per_worker, worker_stop=stopped)


# ---------------------------------------------------------------------------
# PostgreSQL: a database of our own for the run
# ---------------------------------------------------------------------------

async def postgres_reachable(admin_url: str) -> str | None:
    """None when we can connect; otherwise why not."""
    import asyncpg

    try:
        conn = await asyncpg.connect(admin_url, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


@asynccontextmanager
async def postgres_database(admin_url: str):
    """A fresh database sb_bench_<random> on the admin URL's server, dropped afterwards; yields its URL."""
    import asyncpg

    name = f"sb_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_url, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        version = await admin.fetchval("SHOW server_version")
        try:
            yield admin_url.rsplit("/", 1)[0] + f"/{name}", version
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def run_postgres(env: Env, music: Path, admin_url: str, timeout_s: float) -> dict:
    async with postgres_database(admin_url) as (url, version):
        log("PostgreSQL: scanning into a fresh database (setup, not timed against a bar) ...")
        setup = scan(env, music, env.data_dir("pg-scan"), url)
        log(f"  scanned in {setup['wall_s']:.1f} s; Redis mode, {WORKERS} workers ...")
        result = await run_redis(env, env.data_dir("redis-postgres"), "postgresql", url, timeout_s)
    return {**result, "server_version": version, "setup_scan": setup}


# ---------------------------------------------------------------------------
# 3. Idle workers
# ---------------------------------------------------------------------------

def sample_idle(workers: Workers, seconds: float, every_s: float = 1.0) -> dict[str, dict]:
    """Per worker: CPU % over the window (alone, and with its forks), peak RSS, the tree's memory at the end.

    CPU time per pid is the difference between its last and first sample, so a
    fork that appears during the window counts from its first sample on.
    """
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    peak_rss: dict[int, int] = {}
    t0 = time.perf_counter()
    while True:
        for proc in workers.procs:
            for p in family(proc.pid):
                last[p.pid] = cpu_seconds(p)
                first.setdefault(p.pid, last[p.pid])
            peak_rss[proc.pid] = max(peak_rss.get(proc.pid, 0), psutil.Process(proc.pid).memory_info().rss)
        wall = time.perf_counter() - t0
        if wall >= seconds:
            break
        time.sleep(min(every_s, seconds - wall))
    out = {}
    for name, proc in zip(workers.names, workers.procs):
        procs = family(proc.pid)
        memory = [p.memory_full_info() for p in procs]
        tree_cpu = sum(last[p.pid] - first[p.pid] for p in procs if p.pid in last)
        out[name] = {"cpu_percent": round(100 * tree_cpu / wall, 3),
                     "cpu_percent_worker_only": round(100 * (last[proc.pid] - first[proc.pid]) / wall, 3),
                     "rss_mb": round(peak_rss[proc.pid] / MB, 1),
                     "tree": {"processes": len(procs), "rss_mb": round(sum(m.rss for m in memory) / MB, 1),
                              "pss_mb": round(sum(m.pss for m in memory) / MB, 1),
                              "uss_mb": round(sum(m.uss for m in memory) / MB, 1)}}
    return out


async def run_idle(env: Env, template: Path, seconds: float) -> dict:
    data_dir = env.data_dir("idle")
    copy_database(template, data_dir)
    async with clean_redis() as client:
        workers = Workers(env.environ(data_dir, None, REDIS_URL), WORKERS, data_dir, client)
        try:
            startup_s = workers.start()
            await asyncio.sleep(SETTLE_S)
            per_worker = sample_idle(workers, seconds)
            states = workers.states()
        finally:
            stopped = workers.stop()
    return {"workers": WORKERS, "worker_startup_s": round(startup_s, 3), "settle_s": SETTLE_S,
            "window_s": seconds, "states_at_end": states, "per_worker": per_worker, "stop": stopped}


# ---------------------------------------------------------------------------
# Bars, machine, report
# ---------------------------------------------------------------------------

def judge(name: str, measured: float | None, note: str = "") -> dict:
    description, op, target = BARS[name]
    if measured is None:
        verdict = None
    else:
        verdict = {"<=": measured <= target, "<": measured < target, ">=": measured >= target}[op]
    return {"description": description, "target": f"{op} {target:g}", "measured": measured, "pass": verdict,
            "note": note}


def evaluate_bars(results: dict) -> dict:
    def ms(key: str) -> float | None:
        run = results.get(key)
        return run.get("ms_per_track_stage") if run and not run.get("incomplete") else None

    idle = results.get("idle", {}).get("per_worker", {})
    pg = results.get("redis_postgres") or {"skipped": "not run"}
    return {
        "embedded_ms_per_track_stage": judge("embedded_ms_per_track_stage", ms("embedded_sqlite")),
        "redis_ms_per_track_stage": judge("redis_ms_per_track_stage", ms("redis_sqlite")),
        "redis_postgres_ms_per_track_stage": judge(
            "redis_postgres_ms_per_track_stage", ms("redis_postgres"),
            (pg.get("skipped") or pg.get("error") or "").split("\n")[0]),
        "idle_worker_cpu_percent": judge("idle_worker_cpu_percent",
                                         max((w["cpu_percent"] for w in idle.values()), default=None)),
        "idle_worker_rss_mb": judge("idle_worker_rss_mb", max((w["rss_mb"] for w in idle.values()), default=None),
                                    "the worker process; see idle.per_worker.*.tree for it with its forks"),
    }


def source_version() -> dict:
    """Package version, a digest of its sources and the git commit: what exactly was measured."""
    import importlib.metadata

    import soniquebay_core

    root = Path(soniquebay_core.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    git = subprocess.run(["git", "-C", str(REPO_DIR), "rev-parse", "HEAD"], capture_output=True, text=True,
                         check=False)
    dirty = subprocess.run(["git", "-C", str(REPO_DIR), "status", "--porcelain", "--", "soniquebay_core"],
                           capture_output=True, text=True, check=False)
    return {"version": importlib.metadata.version("soniquebay-core"), "source_sha256": digest.hexdigest()[:16],
            "git_commit": git.stdout.strip() or None, "git_dirty": bool(dirty.stdout.strip())}


def machine_info() -> dict:
    def search(pattern: str, file: str) -> str | None:
        try:
            return re.search(pattern, Path(file).read_text()).group(1)
        except (OSError, AttributeError):
            return None

    kib = search(r"MemTotal:\s*(\d+)", "/proc/meminfo")
    return {"cpu_count": os.cpu_count(), "cpu_model": search(r"model name\s*:\s*(.+)", "/proc/cpuinfo"),
            "memory_gb": round(int(kib) / 1024**2, 1) if kib else None, "platform": platform.platform(),
            "python_version": platform.python_version(), "python": sys.executable,
            "loadavg_start": [round(x, 2) for x in os.getloadavg()]}


def versions() -> dict:
    import importlib.metadata as md

    info = {"soniquebay": source_version()}
    for dist in ("rq", "redis", "sqlalchemy", "aiosqlite", "asyncpg"):
        try:
            info[dist] = md.version(dist)
        except md.PackageNotFoundError:
            info[dist] = None
    import redis

    try:
        info["redis_server"] = redis_client().info("server").get("redis_version")
    except (redis.RedisError, OSError):
        info["redis_server"] = None
    return info


def print_table(results: dict) -> None:
    rows = [["run", "tracks", "jobs", "enqueue s", "total s", "ms/track/stage", "targets/s", "setup s"]]
    for key, label in (("embedded_sqlite", "embedded, SQLite"), ("redis_sqlite", "Redis 2 workers, SQLite"),
                       ("redis_postgres", "Redis 2 workers, PostgreSQL")):
        run = results.get(key)
        if not run or "error" in run or "skipped" in run:
            reason = (run or {}).get("error") or (run or {}).get("skipped") or "not run"
            rows.append([label, reason.splitlines()[0][:60], "", "", "", "", "", ""])
            continue
        setup = run.get("open_s", run.get("worker_startup_s"))
        rows.append([label, str(run["tracks"]), str(sum(run["jobs_enqueued"].values())), f"{run['enqueue_s']:.3f}",
                     f"{run['elapsed_s']:.2f}", f"{run['ms_per_track_stage']:.3f}",
                     f"{run['targets_per_second']:.0f}", f"{setup:.2f}"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(file=sys.stderr)
    for r in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))),
              file=sys.stderr)
    print("  (setup s: Runtime.open for embedded, worker start-up to idle for Redis; not in total s)",
          file=sys.stderr)
    for name, w in results.get("idle", {}).get("per_worker", {}).items():
        print(f"  idle {name}: CPU {w['cpu_percent']:.2f} % (worker alone {w['cpu_percent_worker_only']:.2f} %), "
              f"RSS {w['rss_mb']:.0f} MB; with forks: {w['tree']['processes']} processes, "
              f"RSS {w['tree']['rss_mb']:.0f} MB, PSS {w['tree']['pss_mb']:.0f} MB", file=sys.stderr)
    print(file=sys.stderr)
    for name, bar in results["bars"].items():
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[bar["pass"]]
        measured = "-" if bar["measured"] is None else f"{bar['measured']:g}"
        print(f"  {verdict}  {name:<36} {measured:>9}  (target {bar['target']})", file=sys.stderr)


def print_profile(top: dict[str, list[dict]]) -> None:
    for key, entries in top.items():
        print(f"\n  embedded run under cProfile, {key}:", file=sys.stderr)
        for e in entries:
            print(f"    {e['tottime']:8.3f} {e['cumtime']:8.3f} {e['ncalls']:>8}  {e['function']}", file=sys.stderr)


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tracks", type=int, default=10000, help="library size (default 10000)")
    ap.add_argument("--no-postgres", action="store_true", help="skip the Redis-mode run on PostgreSQL")
    ap.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN,
                    help=f"where to create (and drop) the PostgreSQL database (default {DEFAULT_PG_ADMIN})")
    ap.add_argument("--idle-seconds", type=float, default=10.0, help="idle sampling window (default 10)")
    ap.add_argument("--profile", action="store_true", help="also run embedded mode under cProfile and print it")
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK,
                    help=f"library cache (shared with scan_bench.py) and scratch (default {DEFAULT_WORK})")
    ap.add_argument("--make-library", type=Path, default=DEFAULT_MAKE_LIBRARY)
    ap.add_argument("--timeout", type=float, default=900.0, help="per-run time limit, seconds")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON (default bench/results/pipeline.json)")
    ap.add_argument("--fail-on-bars", action="store_true", help="exit 1 when a bar fails")
    args = ap.parse_args(argv)
    if args.tracks < 1 or args.idle_seconds <= 0:
        ap.error("--tracks and --idle-seconds must be positive")
    args.work = args.work.resolve()
    return args


async def measure_all(args: argparse.Namespace, env: Env, results: dict) -> None:
    """Each measurement in turn; one that fails is recorded as an error and the others still run."""
    music = ensure_music(args.work, args.tracks, args.make_library)
    log(f"setup: soniquebay scan --no-stages {music} into a fresh SQLite data dir ...")
    template = env.data_dir("template")
    results["setup_scan"] = scan(env, music, template)
    log(f"  scanned in {results['setup_scan']['wall_s']:.1f} s (not counted)")

    async def step(key: str, what: str, coro) -> None:
        log(what + " ...")
        try:
            results[key] = await coro
        except (BenchError, OSError, subprocess.SubprocessError, psutil.Error) as exc:
            log(f"  error: {exc}")
            results[key] = {"error": str(exc)}
        else:
            run = results[key]
            if "elapsed_s" in run:
                log(f"  {run['elapsed_s']:.2f} s, {run['ms_per_track_stage']:.3f} ms per track per stage"
                    + (f"; INCOMPLETE: {run['incomplete']}" if run["incomplete"] else ""))
        write_json(args.out, results)

    await step("embedded_sqlite", "embedded mode, SQLite", run_embedded(env, template, "embedded"))
    redis_dir = env.data_dir("redis-sqlite")
    copy_database(template, redis_dir)
    await step("redis_sqlite", f"Redis mode, {WORKERS} workers, SQLite",
               run_redis(env, redis_dir, "sqlite", None, args.timeout))
    if args.no_postgres:
        results["redis_postgres"] = {"skipped": "--no-postgres"}
    elif (why := await postgres_reachable(args.pg_admin_url)) is not None:
        log(f"PostgreSQL not reachable, skipped: {why}")
        results["redis_postgres"] = {"skipped": f"not reachable: {why}"}
    else:
        await step("redis_postgres", f"Redis mode, {WORKERS} workers, PostgreSQL",
                   run_postgres(env, music, args.pg_admin_url, args.timeout))
    await step("idle", f"{WORKERS} idle workers, {args.idle_seconds:g} s", run_idle(env, template, args.idle_seconds))
    if args.profile:
        profiler = cProfile.Profile()
        await step("embedded_profiled", "embedded mode under cProfile (no bar)",
                   run_embedded(env, template, "embedded-profiled", profiler))
        if "error" not in results["embedded_profiled"]:
            results["embedded_profiled"]["profile"] = profile_top(profiler)
            write_json(args.out, results)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="pipeline-", dir=args.work))
    results = {
        "benchmark": "pipeline",
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)]),
        "machine": machine_info(),
        "versions": versions(),
        "settings": {"tracks_requested": args.tracks, "seed": SEED, "plugin": "bench_noop (enrich_track -> None, "
                     "max_concurrency 2)", "bucket": BUCKET, "workers": WORKERS, "redis_url": REDIS_URL,
                     "embedded_workers": "default (2)", "config": "empty (all defaults)",
                     "timing": "wall clock, one run each; see the module docstring for start and end points"},
    }
    try:
        asyncio.run(measure_all(args, Env(scratch), results))
    except (BenchError, OSError, subprocess.SubprocessError) as exc:
        log(f"error: {exc}")
        results["error"] = str(exc)
        write_json(args.out, results)
        return 2
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results["bars"] = evaluate_bars(results)
    results["all_bars_pass"] = all(b["pass"] is not False for b in results["bars"].values())
    results["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    results["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    write_json(args.out, results)
    print_table(results)
    if "embedded_profiled" in results and "profile" in results["embedded_profiled"]:
        print_profile(results["embedded_profiled"]["profile"])
    log(f"results: {args.out}")
    if any("error" in results.get(k, {}) for k in ("embedded_sqlite", "redis_sqlite", "redis_postgres", "idle")):
        return 2
    return 1 if args.fail_on_bars and not results["all_bars_pass"] else 0


if __name__ == "__main__":
    sys.exit(main())
