#!/usr/bin/env python3
"""API benchmark: latency under 20 concurrent connections on a 100,000-track library, and the server's memory.

    .venv/bin/python bench/api_bench.py [--tracks 100000] [--connections 20] [--requests 3000] [--out FILE]
                                        [--scenarios suggest floor ...]

The library is ``bench/big_library.py``'s SQLite database (built once, cached; each run copies it). A real
``soniquebay serve`` process (embedded mode, no Redis) answers on loopback; this process is the load
generator: ``--connections`` keep-alive HTTP/1.1 connections, each sending its next request as soon as the
previous answer is read (a closed loop, as wrk does), written on asyncio streams over uvloop so the
generator costs little CPU next to the server. Every request carries a bearer token.

Scenarios (bars from the API issue): ``tracks_page`` — a page of 50 tracks with one or two filters (genre,
year range, BPM range, key, format) and a sort, p95 ≤ 30 ms; ``suggest`` — typeahead for 1–4 typed
characters, p95 ≤ 25 ms; ``faceted_search`` — ``/api/search?q=word`` with facets, sometimes a filter,
p95 ≤ 60 ms. Each runs ``--requests`` requests after a warm-up; any non-200 answer is an error. The
server's RSS is sampled every 50 ms throughout; bar < 250 MB. A last scenario, ``floor`` (no bar), asks one
typeahead again and again: an answer kept after its first computation, so its latency is what the HTTP
stack, the token check and the load generator cost on this machine, the floor under every other scenario.

The scenarios start once the server holds its track columns and the tracks' JSON in memory (read at
start-up in the background; ``/metrics``' ``soniquebay_track_columns_ready``): a library standing still, as
a served library mostly is. The seconds that took are ``server_warm_s``.

The generated library was never processed (no stage records, no files): a served library would have been
long ago. The server's periodic sweeps are therefore pushed past the run; left on, the first (after 2 min)
makes the server try, and fail, to process every track during the measurements, its writes dropping every
kept answer each time.

Each scenario also reports the CPU time per request of the server and of this load generator (both share
the machine's cores). ``--workers N`` is an experiment, not the product: the same app served by N uvicorn
worker processes (``soniquebay serve`` runs one); RSS is then the largest of any one worker.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import psutil
import uvloop

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from big_library import GENRES, KEYS, WORDS, cached_sqlite  # noqa: E402

BARS_MS = {"tracks_page": 30, "suggest": 25, "faceted_search": 60, "floor": None}
RSS_BAR_MB = 250
SORTS = ("added", "title", "artist", "year", "-year", "bpm")


def tracks_page(rng: random.Random) -> str:
    filters = [("genre", rng.choice(GENRES)), ("year_min", rng.randint(1960, 2015)),
               ("bpm_min", rng.randint(60, 150)), ("key", rng.choice(KEYS)), ("format", rng.choice(("mp3", "flac")))]
    chosen = dict(rng.sample(filters, rng.choice((1, 2))))
    if "year_min" in chosen:
        chosen["year_max"] = chosen["year_min"] + 10
    if "bpm_min" in chosen:
        chosen["bpm_max"] = chosen["bpm_min"] + 20
    return "/api/tracks?" + urlencode({**chosen, "sort": rng.choice(SORTS), "limit": 50})


def suggest(rng: random.Random) -> str:
    word = rng.choice(WORDS)
    return "/api/search/suggest?" + urlencode({"q": word[:rng.randint(1, 4)]})


def faceted_search(rng: random.Random) -> str:
    params = {"q": rng.choice(WORDS)}
    if rng.random() < 0.4:
        params["genre"] = rng.choice(GENRES)
    return "/api/search?" + urlencode(params)


def floor(rng: random.Random) -> str:
    return "/api/search/suggest?q=lo"


SCENARIOS = {"tracks_page": tracks_page, "suggest": suggest, "faceted_search": faceted_search, "floor": floor}
NO_SWEEPS = "[jobs]\n" + "".join(f"{kind}_every_s = 86400\n" for kind in ("enrich", "covers", "vectors", "retries"))


class Connection:
    """One keep-alive HTTP/1.1 connection: enough of the protocol for our own server's JSON answers."""

    def __init__(self, port: int, token: str):
        self.port, self.token = port, token

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def get(self, path: str) -> int | str:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
                          "Accept: application/json\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def cpu_seconds(processes: list[psutil.Process]) -> float:
    return sum(sum(p.cpu_times()[:2]) for p in processes)


async def run_scenario(port: int, token: str, make_path, connections: int, requests: int, seed: int,
                       server: list[psutil.Process]) -> dict:
    rng = random.Random(seed)
    paths = [make_path(rng) for _ in range(requests)]
    warmup = [make_path(rng) for _ in range(connections * 5)]
    conns = [Connection(port, token) for _ in range(connections)]
    await asyncio.gather(*(c.open() for c in conns))
    latencies: list[float] = []
    errors: list[str] = []

    async def worker(conn: Connection, queue: list[str], record: bool) -> None:
        while queue:
            path = queue.pop()
            started = time.perf_counter()
            try:
                status = await conn.get(path)
            except (OSError, asyncio.IncompleteReadError) as exc:  # the server dropped the connection
                status = f"{type(exc).__name__}"
                conn.close()
                await conn.open()
            if record:
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    errors.append(f"{status} {path}")

    await asyncio.gather(*(worker(c, warmup, False) for c in conns))
    started, client_cpu, server_cpu = time.perf_counter(), time.process_time(), cpu_seconds(server)
    await asyncio.gather(*(worker(c, paths, True) for c in conns))
    elapsed = time.perf_counter() - started
    client_cpu, server_cpu = time.process_time() - client_cpu, cpu_seconds(server) - server_cpu
    for c in conns:
        c.close()
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 2)

    return {"requests": len(latencies), "errors": len(errors), "error_samples": errors[:5],
            "rps": round(len(latencies) / elapsed, 1), "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "max_ms": round(latencies[-1], 2), "mean_ms": round(statistics.fmean(latencies), 2),
            "cpu_ms_per_request": {"server": round(server_cpu * 1000 / len(latencies), 3),
                                   "load_generator": round(client_cpu * 1000 / len(latencies), 3)}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def make_token(url: str) -> str:
    from soniquebay_core import auth
    from soniquebay_core.db import Database

    db = await Database.open(url)
    try:
        async with db.engine.begin() as conn:
            return await auth.issue_token(conn, await auth.add_user(conn, "bench", "bench password", "admin"),
                                          "bench")
    finally:
        await db.engine.dispose()


def wait_healthy(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer /api/health in time")


def wait_warm(port: int, timeout: float = 300) -> float:
    """Wait until the server holds the track lists' columns and JSON in memory (``/metrics``' gauge, read at
    start-up in the background); the seconds it took."""
    import urllib.request

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            if b"soniquebay_track_columns_ready 1" in answer.read():
                return round(time.monotonic() - started, 1)
        time.sleep(0.2)
    raise SystemExit("the server did not read its track columns in time")


def serving(pid: int, workers: int) -> list[psutil.Process]:
    """The processes answering: the server, or with ``--workers`` uvicorn's worker processes."""
    server = psutil.Process(pid)
    if workers == 1:
        return [server]
    deadline = time.monotonic() + 30
    while len(server.children()) < workers and time.monotonic() < deadline:
        time.sleep(0.1)
    return server.children()


def server_app():
    """For ``--workers``: the app ``soniquebay serve --no-web`` serves, built in each of uvicorn's workers."""
    from soniquebay_core.api.app import create_app
    from soniquebay_core.config import load_settings

    return create_app(load_settings())


async def sample_rss(processes: list[psutil.Process], peak: list[float], stop: asyncio.Event) -> None:
    """The largest RSS of any one serving process (the bar is per process)."""
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], *(p.memory_info().rss / 2**20 for p in processes))
        except psutil.NoSuchProcess:
            return
        await asyncio.sleep(0.05)


async def measure(port: int, pid: int, token: str, args) -> tuple[dict, float]:
    peak = [0.0]
    stop = asyncio.Event()
    server = serving(pid, args.workers)
    sampler = asyncio.create_task(sample_rss(server, peak, stop))
    results = {}
    for i, (name, make_path) in enumerate(SCENARIOS.items()):
        if name not in args.scenarios:
            continue
        results[name] = await run_scenario(port, token, make_path, args.connections, args.requests, seed=100 + i,
                                           server=server)
        if BARS_MS[name] is not None:
            results[name]["bar_p95_ms"] = BARS_MS[name]
            results[name]["meets_bar"] = results[name]["p95_ms"] <= BARS_MS[name] and not results[name]["errors"]
        print(f"{name}: {json.dumps(results[name])}", file=sys.stderr)
    stop.set()
    await sampler
    return results, peak[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=1,
                        help="experiment: serve from this many uvicorn worker processes (what `soniquebay serve` "
                             "does not do) instead of `soniquebay serve`")
    parser.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS),
                        help="run only these (each keeps its own seed: same requests as in a full run)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "api.json")
    args = parser.parse_args(argv)

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    source = cached_sqlite(args.tracks)
    with tempfile.TemporaryDirectory(prefix="sb-api-bench-") as work:
        work = Path(work)
        database = work / "library.db"
        shutil.copy(source, database)
        url = f"sqlite+aiosqlite:///{database}"
        token = asyncio.run(make_token(url))
        (work / "config.toml").write_text(NO_SWEEPS)
        port = free_port()
        env = {**os.environ, "SONIQUEBAY_CONFIG": str(work / "config.toml"), "SONIQUEBAY_DATA_DIR": str(work / "data"),
               "SONIQUEBAY_DATABASE_URL": url, "SONIQUEBAY_REDIS_URL": "", "SONIQUEBAY_LOG_LEVEL": "warning"}
        command = [str(Path(sys.executable).with_name("soniquebay")), "serve", "--no-web", "--port", str(port)]
        if args.workers > 1:
            command = [sys.executable, "-m", "uvicorn", "--factory", "api_bench:server_app", "--app-dir", str(HERE),
                       "--workers", str(args.workers), "--port", str(port), "--no-access-log"]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "w"))
        try:
            wait_healthy(port, server)
            warm_s = wait_warm(port) if args.workers == 1 else None
            idle_rss = max(p.memory_info().rss for p in serving(server.pid, args.workers)) / 2**20
            results, peak = uvloop.run(measure(port, server.pid, token, args))  # the server's loop: a leaner client
        finally:
            server.terminate()
            server.wait(timeout=30)
    report = {
        "benchmark": "api", "tracks": args.tracks, "database": "sqlite", "connections": args.connections,
        "server_processes": args.workers,
        "requests_per_scenario": args.requests, "scenarios": results,
        "server_warm_s": warm_s,
        "server_rss_mb": {"idle": round(idle_rss, 1), "peak_under_load": round(peak, 1), "bar": RSS_BAR_MB},
        "meets_bars": all(r.get("meets_bar", not r["errors"]) for r in results.values()) and peak < RSS_BAR_MB,
        "machine": {"cpus": os.cpu_count(), "loadavg_at_start": load_at_start,
                    "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
