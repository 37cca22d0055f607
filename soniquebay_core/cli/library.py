"""Library commands: scan, ls, stats, demo-library."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..db import Database
from ..library import query as track_query
from ..library.stats import library_stats
from ..scanner.scan import ScanProgress
from .app import FORMAT, App, cli, emit_json
from .progress import show_stage_progress


class _ProgressLine:
    """A one-line progress display on a terminal; silent when stderr is not one."""

    def __init__(self) -> None:
        self.active = sys.stderr.isatty()

    def __call__(self, p: ScanProgress) -> None:
        if not self.active:
            return
        c = p.counts
        line = (f"{p.phase}: {c.files_seen} files, {c.new} new, {c.changed} changed, {c.errors} errors"
                f" — {p.files_per_second:.0f} files/s")
        click.echo(f"\r\033[K{line}", nl=p.phase == "done", err=True)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--full", is_flag=True, help="read every file again, even unchanged ones")
@click.option("--stages/--no-stages", default=True, show_default=True,
              help="run the plugins' stages on what the scan found (in-process mode) or enqueue them (Redis)")
@FORMAT
@click.pass_obj
def scan(app: App, paths: tuple[Path, ...], full: bool, stages: bool, fmt: str) -> None:
    """Scan PATHS (or the known library folders) into the library.

    A folder scanned once is remembered as a library folder; later scans read
    only new and changed files and notice deleted and moved ones. Without
    Redis the enabled stages (enrichment, covers, vectors) then run here.
    """
    async def work(runtime):
        result = await runtime.scan(list(paths) or None, full=full, progress=_ProgressLine(),
                                    sweep=stages)
        summary = await show_stage_progress(runtime) if stages else None
        return result, summary

    result, summary = app.run_runtime(work)
    if fmt == "json":
        emit_json({**result.as_dict(), "stages": summary})
        return
    c = result.counts
    click.echo(f"Scanned {c.files_seen} files in {result.duration_s:.1f} s: {c.new} new, {c.changed} changed, "
               f"{c.unchanged} unchanged, {c.moved} moved, {c.removed} removed, {c.errors} errors.")
    for error in result.errors[:10]:
        click.echo(f"  error: {error['path']}: {error['error']}", err=True)
    if len(result.errors) > 10:
        click.echo(f"  … and {c.errors - 10} more (use --format json for the list)", err=True)
    for s in summary or []:
        click.echo(f"Stage {s['plugin']}.{s['stage']}: {s['done']} done, {s['pending']} pending, "
                   f"{s['failed']} failed")


@cli.command()
@click.argument("query", nargs=-1)
@click.option("--limit", type=click.IntRange(min=1), help="at most this many tracks")
@FORMAT
@click.pass_obj
def ls(app: App, query: tuple[str, ...], limit: int | None, fmt: str) -> None:
    """List tracks matching QUERY: free words and field:value terms.

    Fields: added, album, albumartist, artist, bpm, disc, feature, format, genre,
    key, missing, path, pending, title, track, year. Numbers take ranges:
    year:1990..1999, bpm:120..; added:2026-11-01..; pending:plugin.stage;
    audio features: feature:camelot=8A, feature:energy=0.6..1
    Example: soniquebay ls artist:björk year:1997
    """
    parsed = track_query.parse(list(query))

    async def work(db: Database) -> None:
        shown = 0
        async with db.engine.connect() as conn:
            async for track in track_query.tracks(conn, parsed):
                if fmt == "json":
                    emit_json(track)
                else:
                    click.echo(f"{track['artist'] or 'Unknown Artist'} - {track['album'] or ''} - {track['title']}")
                shown += 1
                if limit and shown >= limit:
                    return

    app.run(work)


@cli.command("demo-library")
@click.argument("folder", type=click.Path(path_type=Path))
def demo_library(folder: Path) -> None:
    """Write a small demo library (tagged WAV files) into FOLDER, to try SoniqueBay with."""
    from ..demo import make_demo_library

    click.echo(f"Wrote a demo library of {make_demo_library(folder)} tracks in {folder}")


@cli.command()
@FORMAT
@click.pass_obj
def stats(app: App, fmt: str) -> None:
    """Library totals, and per stage: done / pending / failed."""
    async def work(runtime) -> dict:
        async with runtime.db.engine.connect() as conn:
            return await library_stats(conn, runtime.host)

    data = app.run_runtime(work)
    if fmt == "json":
        emit_json(data)
        return
    hours = data["duration_s"] / 3600
    click.echo(f"Tracks:  {data['tracks']} ({hours:.1f} h, {data['size_bytes'] / 1e9:.2f} GB)")
    click.echo(f"Albums:  {data['albums']}\nArtists: {data['artists']}\nGenres:  {data['genres']}")
    click.echo(f"Missing: {data['missing']}\nFiles with errors: {data['file_errors']}")
    if data["formats"]:
        click.echo("Formats: " + ", ".join(f"{k} {v}" for k, v in data["formats"].items()))
    for s in data["stages"]:
        click.echo(f"Stage {s['plugin']}.{s['stage']} v{s['version']}: {s['done']} done, "
                   f"{s['pending']} pending, {s['failed']} failed")


