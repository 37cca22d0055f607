"""Showing pipeline progress on the terminal from the event stream."""
from __future__ import annotations

import asyncio
import sys

import click

from ..stages import stage_summary


async def show_stage_progress(runtime) -> list[dict]:
    """In-process mode: wait for the queued stage jobs, one progress line per job on a terminal.

    With Redis the jobs belong to the workers; this returns at once. Either way
    the answer is what the database says per stage afterwards.
    """
    watcher = asyncio.get_running_loop().create_task(_print_jobs(runtime)) if sys.stderr.isatty() else None
    try:
        await runtime.wait_idle()
    finally:
        if watcher is not None:
            watcher.cancel()
            click.echo("", err=True)
    async with runtime.db.engine.connect() as conn:
        return await stage_summary(conn, runtime.host)


async def _print_jobs(runtime) -> None:
    done = failed = 0
    async for event in runtime.events.subscribe():
        if event.get("type") != "stage.job":
            continue
        done += event["done"]
        failed += event["failed"]
        click.echo(f"\r\033[Kstages: {done} done, {failed} failed ({event['stage']})", nl=False, err=True)
