#!/usr/bin/env python3
"""Vectors benchmark: embedding throughput and memory, similar-tracks and hybrid-search latency at 100k tracks.

    .venv/bin/python bench/vectors_bench.py [--tracks 100000] [--minilm-tracks 4000] [--queries 300] [--out FILE]

The library is ``big_library.cached_sqlite(tracks)`` (no audio files; BPM, key and features on ~90% of tracks),
copied to a scratch directory. Every embedding measurement runs in a fresh subprocess of its own
(``--worker KIND``), so its peak RSS (VmHWM) is what that worker costs; model files are exported once into
bench/.cache/vector-models (not timed).

1. ``pipeline-pi``: the embedding worker of the ``pi`` profile: ``SONIQUEBAY_PROFILE=pi``, the vectors plugin
   enabled with ``embedder = "auto"`` (→ the static table), the real pipeline (``Runtime.sweep("vectors")`` +
   ``wait_idle``: snapshots, hook, input hashes, the core's writes) over every track of the copy. Bar: peak
   RSS ≤ 150 MB. Its throughput is reported (the core's per-row writes bound it, not the embedder). This also
   gives the vectors the query measurements use.
2. ``hook-minilm``: MiniLM (int8 ONNX, 1 intra-op thread per call) through the plugin's ``vectorize`` hook
   (text, audio part, input hash, model) on ``--minilm-tracks`` snapshots loaded beforehand, two calls at a
   time (the heavy queue's two slots: 2 cores). Bar: ≥ 10,000 tracks/min. Peak RSS is reported.
3. ``hook-static``: the light embedder the same way, one thread. Bar: ≥ 100,000 tracks/min. (Its peak RSS
   includes the ``--static-tracks`` snapshots held in memory for the measurement.)
4. Queries, in this process, through the API (``create_app`` + httpx ASGI transport, SQLite, sqlite-vec):
   ``GET /api/vectors/tracks/{id}/similar?limit=10`` for ``--queries`` random vectorised tracks, after one
   warm-up call (which loads the index); recall@10 against exact brute force (numpy over every stored
   vector). Bars: p95 ≤ 15 ms, recall@10 ≥ 0.95. ``GET /api/search?q=…`` (full text fused with the vector
   half, facets included) for ``--queries`` queries made of artist names, title words, genres and tags.
   Bar: p95 ≤ 60 ms. For reference: the same queries on the same database with no vectors plugin (full text
   only: what the vector half adds is the difference), and the sqlite-vec store's own kNN (p50/p95, recall).

Writes bench/results/vectors.json with the machine's load average before and after (other agents share the
machine: compare figures with the load they ran under).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = HERE / ".cache" / "vector-models"
sys.path.insert(0, str(HERE))


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def settings_for(db: Path, data_dir: Path, profile: str = "desktop", **vectors):
    from soniquebay_core.config import Settings

    return Settings(profile=profile, data_dir=data_dir, database_url=f"sqlite:///{db}",
                    plugins={"vectors": {"enabled": True, "cache_dir": str(MODELS), **vectors}})


def vectors_host(settings):
    from soniquebay_core.plugins import load_plugins

    return load_plugins(settings, entry_points_group=False, modules={"vectors": "soniquebay_vectors.plugin"})


# -- workers (subprocesses) ----------------------------------------------------------------------------

async def _pipeline(db: Path, data_dir: Path) -> dict:
    from sqlalchemy import func, select

    from soniquebay_core.models import TrackEmbedding
    from soniquebay_core.runtime import Runtime

    settings = settings_for(db, data_dir, profile="pi", embedder="auto")
    runtime = await Runtime.open(settings, vectors_host(settings))
    try:
        started = time.monotonic()
        await runtime.sweep("vectors")
        await runtime.wait_idle()
        seconds = time.monotonic() - started
        async with runtime.db.engine.connect() as conn:
            models = dict((await conn.execute(select(TrackEmbedding.model, func.count())
                                              .group_by(TrackEmbedding.model))).all())
    finally:
        await runtime.close()
    tracks = sum(models.values())
    return {"tracks": tracks, "models": models, "seconds": round(seconds, 2),
            "tracks_per_min": round(tracks / seconds * 60), "peak_rss_mb": round(peak_rss_mb(), 1)}


async def _snapshots(db: Path, count: int):
    from soniquebay_core.db import Database
    from soniquebay_core.library.query import tracks_by_id
    from soniquebay_core.schemas import TrackSnapshot

    database = await Database.open(f"sqlite:///{db}")
    try:
        async with database.engine.connect() as conn:
            rows = await tracks_by_id(conn, list(range(1, count + 1)))
    finally:
        await database.close()
    fields = TrackSnapshot.model_fields
    return [TrackSnapshot.model_validate({k: v for k, v in t.items() if k in fields}) for t in rows]


def _hook(db: Path, kind: str, count: int, concurrency: int) -> dict:
    from soniquebay_vectors import plugin

    snapshots = asyncio.run(_snapshots(db, count))
    config = {"embedder": kind, "cache_dir": str(MODELS), "threads": 1}
    plugin.vectorize(snapshots[0], config)  # loads the model: not timed
    shares = [snapshots[i::concurrency] for i in range(concurrency)]
    results: list[int] = []

    def work(share):
        results.append(sum(plugin.vectorize(s, config) is not None for s in share))

    threads = [threading.Thread(target=work, args=(share,)) for share in shares]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - started
    return {"tracks": sum(results), "concurrency": concurrency, "seconds": round(seconds, 2),
            "tracks_per_min": round(sum(results) / seconds * 60), "peak_rss_mb": round(peak_rss_mb(), 1)}


def worker(args) -> None:
    if args.worker == "pipeline-pi":
        out = asyncio.run(_pipeline(Path(args.db), Path(args.data_dir)))
    else:
        kind = args.worker.removeprefix("hook-")
        out = _hook(Path(args.db), kind, args.count, 2 if kind == "minilm" else 1)
    print(json.dumps(out))


def run_worker(kind: str, db: Path, data_dir: Path, count: int = 0, profile: str = "desktop") -> dict:
    env = {**os.environ, "SONIQUEBAY_PROFILE": profile, "SONIQUEBAY_DATA_DIR": str(data_dir),
           "SONIQUEBAY_CONFIG": "", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, __file__, "--worker", kind, "--db", str(db), "--data-dir", str(data_dir),
                           "--count", str(count)], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"worker {kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- queries (this process) ----------------------------------------------------------------------------

async def queries(db: Path, data_dir: Path, count: int, seed: int) -> dict:
    import httpx
    import numpy as np
    from sqlalchemy import select

    from soniquebay_core import auth
    from soniquebay_core.api.app import create_app
    from soniquebay_core.models import Artist, Genre, Tag, Track, TrackEmbedding

    settings = settings_for(db, data_dir, embedder="static")
    app = create_app(settings, host=vectors_host(settings), periodic_sweeps=False)
    rng = random.Random(seed)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        async with runtime.db.engine.begin() as conn:
            token = await auth.issue_token(conn, await auth.add_user(conn, f"bench{seed}", "bench password", "admin"),
                                           "bench")
            rows = (await conn.execute(select(TrackEmbedding.track_id, TrackEmbedding.vector))).all()
            artists = (await conn.execute(select(Artist.name).limit(5000))).scalars().all()
            genres = (await conn.execute(select(Genre.name))).scalars().all()
            tags = (await conn.execute(select(Tag.name))).scalars().all()
            titles = (await conn.execute(select(Track.title).limit(5000))).scalars().all()
        ids = np.array([r[0] for r in rows])
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), -1)
        del rows
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                     headers=headers, timeout=120) as client:
            warm = time.monotonic()
            first = (await client.get(f"/api/vectors/tracks/{int(ids[0])}/similar")).json()
            await app.state.vectors.settled()  # the database store's first sync, the artist space
            warm_s = time.monotonic() - warm
            seeds = rng.sample(range(len(ids)), count)
            latencies, recalls = [], []
            for row in seeds:
                started = time.perf_counter()
                answer = await client.get(f"/api/vectors/tracks/{int(ids[row])}/similar", params={"limit": 10})
                latencies.append((time.perf_counter() - started) * 1000)
                got = [i["id"] for i in answer.json()["items"]]
                scores = matrix @ matrix[row]
                scores[row] = -np.inf
                exact = set(ids[np.argsort(-scores)[:10]].tolist())
                recalls.append(len(exact & set(got)) / 10)
            words = [w for t in titles for w in t.split() if len(w) > 3]
            texts = ([rng.choice(artists) for _ in range(count // 3)] + [rng.choice(words) for _ in range(count // 3)]
                     + [f"{rng.choice(genres)} {rng.choice(tags)}" for _ in range(count - 2 * (count // 3))])
            await client.get("/api/search", params={"q": texts[0]})
            search_ms, totals = [], []
            for text in texts:
                started = time.perf_counter()
                answer = await client.get("/api/search", params={"q": text})
                search_ms.append((time.perf_counter() - started) * 1000)
                totals.append(answer.json()["total"])
            status = (await client.get("/api/vectors/status")).json()
        store_ms, store_recall = await _store_knn(app, matrix, ids, seeds[:100])
    full_text_ms = await _full_text_only(settings, texts, headers)
    return {
        "index": status, "warm_up_s": round(warm_s, 2), "first_answer_items": len(first.get("items", [])),
        "similar": {"queries": count, "p50_ms": round(percentile(latencies, 0.5), 2),
                    "p95_ms": round(percentile(latencies, 0.95), 2), "recall_at_10": round(float(np.mean(recalls)), 4)},
        "hybrid_search": {"queries": len(texts), "p50_ms": round(percentile(search_ms, 0.5), 2),
                          "p95_ms": round(percentile(search_ms, 0.95), 2),
                          "median_total": int(np.median(totals))},
        "full_text_only_search": {"queries": len(texts), "p50_ms": round(percentile(full_text_ms, 0.5), 2),
                                  "p95_ms": round(percentile(full_text_ms, 0.95), 2)},
        "store_knn": {"store": status["store"], "queries": len(seeds[:100]),
                      "p50_ms": round(percentile(store_ms, 0.5), 2), "p95_ms": round(percentile(store_ms, 0.95), 2),
                      "recall_at_10": round(store_recall, 4)},
        "api_process_peak_rss_mb": round(peak_rss_mb(), 1),
    }


async def _full_text_only(settings, texts: list[str], headers: dict) -> list[float]:
    """The same search route and queries with no vectors plugin: the full-text half alone."""
    import httpx

    from soniquebay_core.api.app import create_app
    from soniquebay_core.plugins import load_plugins

    app = create_app(settings, host=load_plugins(settings, entry_points_group=False), periodic_sweeps=False)
    latencies = []
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                     headers=headers, timeout=120) as client:
            await client.get("/api/search", params={"q": texts[0]})
            for text in texts:
                started = time.perf_counter()
                await client.get("/api/search", params={"q": text})
                latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def _store_knn(app, matrix, ids, seeds) -> tuple[list[float], float]:
    import numpy as np

    vectors = app.state.vectors
    latencies, hits = [], 0
    async with app.state.runtime.db.engine.connect() as conn:
        for row in seeds:
            started = time.perf_counter()
            found = await vectors.store.knn(conn, vectors.index.model, matrix[row], 11)
            latencies.append((time.perf_counter() - started) * 1000)
            scores = matrix @ matrix[row]
            exact = set(ids[np.argsort(-scores)[:11]].tolist())
            hits += len(exact & {t for t, _ in found})
    return latencies, hits / (11 * len(seeds))


# -- main ----------------------------------------------------------------------------------------------

def bar(target: str, measured, ok: bool) -> dict:
    return {"target": target, "measured": measured, "pass": bool(ok)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--minilm-tracks", type=int, default=4000)
    parser.add_argument("--static-tracks", type=int, default=30_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "vectors.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0

    from big_library import cached_sqlite
    from soniquebay_vectors import export

    load_before = os.getloadavg()
    source = cached_sqlite(args.tracks, args.seed)
    export.ensure(MODELS, static_dims=128)
    with tempfile.TemporaryDirectory(prefix="sb-vectors-bench-") as scratch:
        scratch = Path(scratch)
        db = scratch / "library.db"
        shutil.copy(source, db)
        print(f"vectorising {args.tracks} tracks (pi profile, light embedder)…", file=sys.stderr)
        pipeline = run_worker("pipeline-pi", db, scratch / "data", profile="pi")
        print(json.dumps(pipeline), file=sys.stderr)
        minilm = run_worker("hook-minilm", db, scratch / "data", count=args.minilm_tracks)
        print(json.dumps(minilm), file=sys.stderr)
        static = run_worker("hook-static", db, scratch / "data", count=args.static_tracks)
        print(json.dumps(static), file=sys.stderr)
        print("queries…", file=sys.stderr)
        answers = asyncio.run(queries(db, scratch / "data", args.queries, args.seed))
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "library_tracks": args.tracks,
        "pipeline_pi_light": pipeline, "minilm_hook": minilm, "static_hook": static, **answers,
    }
    result["bars"] = {
        "minilm_tracks_per_min": bar(">= 10000 (2 cores)", minilm["tracks_per_min"],
                                     minilm["tracks_per_min"] >= 10_000),
        "light_tracks_per_min": bar(">= 100000 (1 core)", static["tracks_per_min"],
                                    static["tracks_per_min"] >= 100_000),
        "pi_worker_peak_rss_mb": bar("<= 150", pipeline["peak_rss_mb"], pipeline["peak_rss_mb"] <= 150),
        "similar_p95_ms": bar("<= 15 at 100k", answers["similar"]["p95_ms"], answers["similar"]["p95_ms"] <= 15),
        "similar_recall_at_10": bar(">= 0.95", answers["similar"]["recall_at_10"],
                                    answers["similar"]["recall_at_10"] >= 0.95),
        "hybrid_search_p95_ms": bar("<= 60 at 100k", answers["hybrid_search"]["p95_ms"],
                                    answers["hybrid_search"]["p95_ms"] <= 60),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, b in result["bars"].items():
        print(f"{'PASS' if b['pass'] else 'FAIL'}  {name}: {b['measured']} (target {b['target']})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
