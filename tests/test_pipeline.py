"""The pipeline in embedded mode (no Redis): stages run in-process, on SQLite and PostgreSQL."""
from __future__ import annotations

import collections
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from soniquebay_core.config import JobsSettings, Settings
from soniquebay_core.models import Album, Cover, Track, TrackEmbedding, TrackStage, TrackTag
from soniquebay_core.plugins import load_plugins
from soniquebay_core.runtime import Runtime
from soniquebay_core.stages import stage_summary


@pytest.fixture
def call_log(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "calls.log"
    monkeypatch.setenv("SB_CALL_LOG", str(path))
    return path


def calls(path: Path) -> collections.Counter:
    if not path.exists():
        return collections.Counter()
    return collections.Counter(tuple(line.split()[:2]) for line in path.read_text().splitlines())


def call_times(path: Path) -> dict[tuple[str, str], float]:
    return {(stage, target): float(at) for stage, target, _, at in map(str.split, path.read_text().splitlines())}


async def open_runtime(settings: Settings, fake_plugins, *names: str, **changes) -> Runtime:
    settings = settings.model_copy(update=changes)
    host = load_plugins(settings, modules={n: fake_plugins[n] for n in names})
    return await Runtime.open(settings, host)


async def scalar(runtime: Runtime, query):
    async with runtime.db.engine.connect() as conn:
        return (await conn.execute(query)).scalar_one()


async def test_every_stage_runs_once_per_track(settings, library, fake_plugins, call_log, monkeypatch):
    """Four workers and slow calls, so that jobs of every stage run side by side: a track's vector still
    comes after its enrichment, once."""
    root, _ = library
    monkeypatch.setenv("SB_STAGE_DELAY", "0.002")
    runtime = await open_runtime(settings, fake_plugins, "stages", jobs=JobsSettings(embedded_workers=4))
    try:
        result = await runtime.scan([root])
        await runtime.wait_idle()
        tracks = result.counts.new
        albums = await scalar(runtime, select(func.count()).select_from(Album))
        logged = calls(call_log)
        assert sum(n for (stage, _), n in logged.items() if stage == "enrich_track") == tracks
        assert sum(n for (stage, _), n in logged.items() if stage == "vectorize") == tracks
        assert sum(n for (stage, _), n in logged.items() if stage == "fetch_cover") == albums
        assert set(logged.values()) == {1}, "a stage ran twice for the same target"
        when = call_times(call_log)
        assert all(when["vectorize", t] > when["enrich_track", t] for (stage, t) in when if stage == "vectorize")
        async with runtime.db.engine.connect() as conn:
            summary = {s["stage"]: s for s in await stage_summary(conn, runtime.host)}
        assert {s: (v["done"], v["pending"], v["failed"]) for s, v in summary.items()} == {
            "enrich_track": (tracks, 0, 0), "fetch_cover": (tracks, 0, 0), "vectorize": (tracks, 0, 0)}
        # results were written by the core
        assert await scalar(runtime, select(func.count()).select_from(TrackEmbedding)) == tracks
        assert await scalar(runtime, select(func.count()).select_from(Album).where(Album.cover_id.is_(None))) == 0
        assert await scalar(runtime, select(func.count()).select_from(Cover)) == 1  # one image, stored once
        assert await scalar(runtime, select(func.count()).select_from(TrackTag)) == tracks
        cover_file = settings.data_dir / await scalar(runtime, select(Cover.file))
        assert cover_file.read_bytes().startswith(b"\x89PNG")
        feature = await scalar(runtime, select(Track.features).limit(1))
        assert "title_length" in feature

        # a second sweep and a rescan find nothing to do
        assert sum((await runtime.sweep()).values()) == 0
        await runtime.scan([root])
        await runtime.wait_idle()
        assert calls(call_log) == logged
    finally:
        await runtime.close()


async def test_outdated_version_runs_again(settings, library, fake_plugins, call_log):
    root, _ = library
    runtime = await open_runtime(settings, fake_plugins, "stages")
    try:
        await runtime.scan([root])
        await runtime.wait_idle()
        async with runtime.db.engine.begin() as conn:
            stale = (await conn.execute(select(Track.id).order_by(Track.id).limit(5))).scalars().all()
            await conn.execute(update(TrackStage).where(TrackStage.track_id.in_(stale), TrackStage.stage == "vectorize")
                               .values(plugin_version="0.9.0"))
        before = calls(call_log)
        assert (await runtime.sweep())["stages.vectorize"] == 1  # the five share a bucket
        await runtime.wait_idle()
        rerun = calls(call_log) - before
        assert rerun == collections.Counter({("vectorize", str(t)): 1 for t in stale})
    finally:
        await runtime.close()


async def test_a_change_while_a_vector_is_computed_makes_it_due_again(settings, library, fake_plugins, call_log,
                                                                     monkeypatch):
    """The vector was computed from the snapshot: a patch written between the snapshot and the vector's
    write leaves it stale, and the next sweep computes it again (it is written later than the patch)."""
    from soniquebay_core.pipeline.runner import StageRunner

    root, _ = library
    runtime = await open_runtime(settings, fake_plugins, "stages")
    try:
        await runtime.scan([root])
        await runtime.wait_idle()
        target = await scalar(runtime, select(func.min(Track.id)))
        async with runtime.db.engine.begin() as conn:
            await conn.execute(update(TrackStage).where(TrackStage.track_id == target,
                                                        TrackStage.stage == "vectorize").values(plugin_version="0.9"))
        real = StageRunner._call

        async def meddling(self, job, manifest, target_id, snapshot, attempt):
            outcome = await real(self, job, manifest, target_id, snapshot, attempt)
            if job.stage == "vectorize":
                async with runtime.db.engine.begin() as conn:
                    await conn.execute(update(Track).where(Track.id == target_id).values(bpm=99.0))
            return outcome

        monkeypatch.setattr(StageRunner, "_call", meddling)
        before = calls(call_log)
        assert (await runtime.sweep("vectors"))["stages.vectorize"] == 1
        await runtime.wait_idle()
        monkeypatch.setattr(StageRunner, "_call", real)
        assert (await runtime.sweep("vectors"))["stages.vectorize"] == 1, "the stale vector was taken as fresh"
        await runtime.wait_idle()
        assert calls(call_log) - before == collections.Counter({("vectorize", str(target)): 2})
        assert sum((await runtime.sweep()).values()) == 0
    finally:
        await runtime.close()


async def test_transient_errors_retry_with_backoff_then_succeed(settings, library, fake_plugins):
    root, _ = library
    runtime = await open_runtime(settings, fake_plugins, "flaky")
    try:
        result = await runtime.scan([root])
        await runtime.wait_idle(retries=True)
        async with runtime.db.engine.connect() as conn:
            rows = (await conn.execute(select(TrackStage.status, TrackStage.attempts, func.count())
                                       .where(TrackStage.plugin == "flaky")
                                       .group_by(TrackStage.status, TrackStage.attempts))).all()
            bpm = (await conn.execute(select(func.min(Track.bpm), func.max(Track.bpm)))).one()
        assert rows == [("done", 3, result.counts.new)]
        assert tuple(bpm) == (123.0, 123.0)
    finally:
        await runtime.close()


async def test_permanent_failure_is_recorded_with_traceback_and_others_go_on(settings, library, fake_plugins,
                                                                          call_log):
    root, _ = library
    runtime = await open_runtime(settings, fake_plugins, "broken_stage", "stages")
    try:
        result = await runtime.scan([root])
        await runtime.wait_idle(retries=True)
        async with runtime.db.engine.connect() as conn:
            failed = (await conn.execute(select(TrackStage.attempts, TrackStage.error).where(
                TrackStage.plugin == "broken_stage"))).all()
            done = await conn.scalar(select(func.count()).select_from(TrackStage).where(
                TrackStage.plugin == "stages", TrackStage.stage == "enrich_track", TrackStage.status == "done"))
        assert len(failed) == result.counts.new and {a for a, _ in failed} == {1}
        assert all("Traceback" in e and "ValueError: cannot make sense of" in e for _, e in failed)
        assert done == result.counts.new
        assert sum((await runtime.sweep()).values()) == 0  # failed is settled: no retry loop
    finally:
        await runtime.close()


async def test_timeout_is_transient_then_given_up(settings, tmp_path, fake_plugins):
    from soniquebay_core.demo import make_demo_library

    make_demo_library(tmp_path / "demo")
    runtime = await open_runtime(settings, fake_plugins, "slow")
    try:
        await runtime.scan([tmp_path / "demo"])
        await runtime.wait_idle(retries=True)
        async with runtime.db.engine.connect() as conn:
            rows = (await conn.execute(select(TrackStage.status, TrackStage.attempts, TrackStage.error)
                                       .where(TrackStage.plugin == "slow"))).all()
        assert rows and {(s, a) for s, a, _ in rows} == {("failed", 2)}
        assert all(e.startswith("gave up after 2 attempts: TimeoutError") for _, _, e in rows)
    finally:
        await runtime.close()


@pytest.mark.parametrize("profile, serialised", [("pi", True), ("desktop", False)])
async def test_limits_heavy_on_pi_and_min_interval(settings, tmp_path, fake_plugins, profile, serialised):
    from soniquebay_core.demo import make_demo_library

    make_demo_library(tmp_path / "demo")
    runtime = await open_runtime(settings, fake_plugins, "limited", profile=profile,
                                 plugins={"limited": {"enabled": True}},
                                 jobs=JobsSettings(embedded_workers=4))
    try:
        import sb_limited

        sb_limited.most, sb_limited.starts[:] = 0, []
        await runtime.scan([tmp_path / "demo"], sweep=False)
        async with runtime.db.engine.connect() as conn:
            ids = (await conn.execute(select(Track.id))).scalars().all()
        # one urgent job per track, so that several jobs run at once
        for track_id in ids:
            await runtime.analyse_now([track_id])
        await runtime.wait_idle()
        assert len(sb_limited.starts) == len(ids)
        gaps = [b - a for a, b in zip(sorted(sb_limited.starts), sorted(sb_limited.starts)[1:], strict=False)]
        # min_interval_ms = 30 between calls, across concurrent jobs; the limiter spaces its releases by 30 ms and
        # each call stamps its start a scheduling delay later, so on a loaded machine a gap may read a little less
        assert min(gaps) >= 0.025
        assert (sb_limited.most == 1) is serialised
    finally:
        await runtime.close()


async def test_urgent_work_goes_first(settings, library, fake_plugins, call_log):
    root, _ = library
    runtime = await open_runtime(settings, fake_plugins, "stages", jobs=JobsSettings(embedded_workers=1))
    try:
        await runtime.scan([root], sweep=False)
        async with runtime.db.engine.connect() as conn:
            last = (await conn.execute(select(Track.id).order_by(Track.id.desc()).limit(1))).scalar_one()
        await runtime.sweep("vectors")  # background buckets first ...
        await runtime.analyse_now([last], ("vectorize",))  # ... then the user asks for the last track
        await runtime.wait_idle()
        order = [line.split()[1] for line in call_log.read_text().splitlines()]
        # the first background job may already have started; the urgent one comes right after it at worst
        assert str(last) in order[:65]
    finally:
        await runtime.close()


async def test_events_and_metrics(settings, library, fake_plugins):
    import asyncio

    root, _ = library
    runtime = await open_runtime(settings, fake_plugins, "stages")
    seen: list[dict] = []

    async def listen():
        async for event in runtime.events.subscribe():
            seen.append(event)

    listener = asyncio.get_running_loop().create_task(listen())
    await asyncio.sleep(0)
    try:
        result = await runtime.scan([root])
        await runtime.wait_idle()
        await asyncio.sleep(0.05)
    finally:
        listener.cancel()
        await runtime.close()
    types = collections.Counter(e["type"] for e in seen)
    assert types["scan.done"] == 1 and types["stage.job"] >= 3
    done = next(e for e in seen if e["type"] == "scan.done")
    assert done["current"] == result.counts.files_seen and done["task_id"] == f"scan:{result.scan_id}"
    assert all({"id", "ts", "task_id", "stage"} <= set(e) for e in seen)
    # sensible rate: a handful of scan events, one per stage job, never one per file
    assert len(seen) < result.counts.files_seen / 5
    metrics = {(m["plugin"], m["stage"]): m for m in runtime.metrics.snapshot()}
    assert metrics[("stages", "vectorize")]["done"] == result.counts.new
    assert metrics[("stages", "enrich_track")]["jobs"] >= 1 and metrics[("stages", "enrich_track")]["seconds"] > 0


async def test_periodic_sweeps_pick_up_pending_work(settings, tmp_path, fake_plugins, call_log):
    """Embedded mode's timers do what rq-scheduler does for workers."""
    import asyncio

    from soniquebay_core.demo import make_demo_library

    make_demo_library(tmp_path / "demo")
    runtime = await open_runtime(settings, fake_plugins, "stages",
                                 jobs=JobsSettings(enrich_every_s=1, vectors_every_s=1, covers_every_s=1))
    try:
        await runtime.scan([tmp_path / "demo"], sweep=False)
        assert not call_log.exists()
        runtime.start_periodic_sweeps()
        for _ in range(100):
            if len(calls(call_log)) == 23 * 2 + 6:
                break
            await asyncio.sleep(0.05)
        assert len(calls(call_log)) == 23 * 2 + 6  # every track twice (enrich, vectors), every album once
    finally:
        await runtime.close()


async def test_a_job_asked_for_while_it_runs_runs_again_after_it():
    """What it is asked for may have become due after the running job looked; it never runs twice at once."""
    import asyncio

    from soniquebay_core.pipeline.embedded import EmbeddedQueue
    from soniquebay_core.pipeline.job import Job
    from soniquebay_core.pipeline.runner import JobReport

    started, release, runs, running = asyncio.Event(), asyncio.Event(), [], set()

    class Runner:
        async def run(self, job):
            assert job.id not in running, "the same job ran twice at once"
            running.add(job.id)
            runs.append(job.id)
            started.set()
            if len(runs) == 1:
                await release.wait()
            running.discard(job.id)
            return JobReport(job.id)

    queue = EmbeddedQueue(Runner(), workers=2)
    job = Job("stages", "vectorize", bucket=0)
    try:
        assert await queue.enqueue(job)
        await started.wait()
        assert await queue.enqueue(job)  # while it runs
        assert await queue.enqueue(job)  # asked twice: once again is enough
        release.set()
        await queue.join()
        assert runs == [job.id, job.id]
    finally:
        await queue.close()
