"""Pipeline commands: process, analyse, worker, scheduler, jobs failed / retry, events."""
from __future__ import annotations

import asyncio

import click

from ..library import query as track_query
from ..pipeline import sweep as sweeps
from ..stages import STAGE_HOOKS
from .app import FORMAT, App, cli, emit_json
from .progress import show_stage_progress

STAGE = click.option("--stage", "stages", multiple=True, type=click.Choice(STAGE_HOOKS),
                     help="only this stage (repeatable)")


def _print_summary(summary: list[dict]) -> None:
    for s in summary:
        click.echo(f"Stage {s['plugin']}.{s['stage']}: {s['done']} done, {s['pending']} pending, {s['failed']} failed")


@cli.command()
@FORMAT
@click.pass_obj
def process(app: App, fmt: str) -> None:
    """Run (or, with Redis, enqueue) every stage that is pending now."""
    async def work(runtime):
        enqueued = await runtime.sweep()
        return enqueued, await show_stage_progress(runtime)

    enqueued, summary = app.run_runtime(work)
    if fmt == "json":
        emit_json({"enqueued": enqueued, "stages": summary})
    else:
        click.echo(f"Enqueued {sum(enqueued.values())} jobs.")
        _print_summary(summary)


@cli.command()
@click.argument("query", nargs=-1, required=True)
@STAGE
@click.pass_obj
def analyse(app: App, query: tuple[str, ...], stages: tuple[str, ...]) -> None:
    """Run the stages now for the tracks matching QUERY, ahead of background work.

    Example: soniquebay analyse album:"OK Computer"
    """
    parsed = track_query.parse(list(query))

    async def work(runtime):
        async with runtime.db.engine.connect() as conn:
            ids = [t["id"] async for t in track_query.tracks(conn, parsed)]
        jobs = await runtime.analyse_now(ids, stages or None) if ids else 0
        return ids, jobs, await show_stage_progress(runtime)

    ids, jobs, summary = app.run_runtime(work)
    click.echo(f"{len(ids)} tracks, {jobs} urgent jobs.")
    _print_summary(summary)


@cli.command()
@click.option("--queues", default="light,heavy,transfer", show_default=True,
              help="comma-separated queue names to serve, e.g. 'heavy' on a big machine")
@click.option("--burst", is_flag=True, help="stop when the queues are empty")
@click.option("--name", help="worker name (default: host.pid.random)")
@click.pass_obj
def worker(app: App, queues: str, burst: bool, name: str | None) -> None:
    """Run jobs from the Redis queues (needs redis_url)."""
    from ..pipeline.worker import run_worker

    run_worker([q.strip() for q in queues.split(",") if q.strip()], burst, name)


@cli.command()
@click.option("--burst", is_flag=True, help="enqueue what is due once, then stop")
def scheduler(burst: bool) -> None:
    """Enqueue the periodic sweeps on Redis (rq-scheduler); one is enough for all workers."""
    from ..pipeline.worker import run_scheduler

    run_scheduler(burst=burst)


@cli.group()
def jobs() -> None:
    """Failed jobs: list them, retry them."""


@jobs.command("failed")
@FORMAT
@click.pass_obj
def jobs_failed(app: App, fmt: str) -> None:
    """Stages that failed for good, per track, with their error."""
    async def work(runtime):
        found = await sweeps.failed(runtime)
        return found["stages"], found["rq_failed_jobs"]

    failed, registry = app.run_runtime(work)
    if fmt == "json":
        emit_json({"stages": failed, "rq_failed_jobs": registry})
        return
    for f in failed:
        last = (f["error"] or "").strip().splitlines()[-1:] or [""]
        click.echo(f"{f['plugin']}.{f['stage']} track {f['track_id']} ({f['path']}): {last[0]}")
    if registry:
        click.echo(f"{len(registry)} jobs in RQ's failed registry (see --format json for their tracebacks)")
    if not failed and not registry:
        click.echo("No failed jobs.")


@jobs.command("retry")
@click.argument("track_ids", nargs=-1, type=int)
@click.option("--plugin", help="only this plugin's failures")
@STAGE
@click.option("--all", "everything", is_flag=True, help="every failed stage")
@click.pass_obj
def jobs_retry(app: App, track_ids: tuple[int, ...], plugin: str | None, stages: tuple[str, ...],
               everything: bool) -> None:
    """Forget failures and run those stages again (now, ahead of background work)."""
    if not (track_ids or plugin or stages or everything):
        raise click.UsageError("say which: TRACK_IDS, --plugin, --stage or --all")

    async def work(runtime):
        ids, jobs = await sweeps.retry_failed(runtime, list(track_ids) or None, plugin, stages or None)
        return ids, jobs, await show_stage_progress(runtime)

    ids, jobs, summary = app.run_runtime(work)
    click.echo(f"Retrying {len(ids)} tracks in {jobs} jobs.")
    _print_summary(summary)


@cli.command()
@click.option("--count", type=int, help="stop after this many events")
@click.pass_obj
def events(app: App, count: int | None) -> None:
    """Print progress events as JSON lines as they happen (scans, stage jobs)."""
    async def work(runtime):
        seen = 0
        async for event in runtime.events.subscribe():
            emit_json(event)
            seen += 1
            if count and seen >= count:
                return

    try:
        app.run_runtime(work)
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
