"""The ``soniquebay`` command line.

Every command can print JSON (``--format json``) for scripts. Errors a user
can fix (bad config, missing folder, unreachable database) print one line on
stderr and exit 1; ``--debug`` shows tracebacks and makes plugin failures fatal.
"""
from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .config import Settings, effective_config, load_settings
from .db import Database
from .errors import SoniqueBayError
from .library import query as track_query
from .library.stats import library_stats
from .plugins import PluginHost, load_plugins
from .scanner.scan import Scanner, ScanProgress

T = TypeVar("T")
FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                      help="output for people or for scripts")


class App:
    """What every command needs, built on first use."""

    def __init__(self, debug: bool = False):
        self.debug = debug
        self._settings: Settings | None = None
        self._host: PluginHost | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def host(self) -> PluginHost:
        if self._host is None:
            self._host = load_plugins(self.settings, strict=self.debug)
        return self._host

    def run(self, work: Callable[[Database], Awaitable[T]]) -> T:
        async def go() -> T:
            db = await Database.open(self.settings.effective_database_url)
            try:
                return await work(db)
            finally:
                await db.close()

        return asyncio.run(go())


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="show tracebacks; plugin failures stop the command")
@click.option("-v", "--verbose", is_flag=True, help="log what happens")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: bool) -> None:
    """SoniqueBay: your music library, scanned, enriched and served."""
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if ctx.obj is None:
        ctx.obj = App(debug)


# -- scan --------------------------------------------------------------------------------------

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
@FORMAT
@click.pass_obj
def scan(app: App, paths: tuple[Path, ...], full: bool, fmt: str) -> None:
    """Scan PATHS (or the known library folders) into the library.

    A folder scanned once is remembered as a library folder; later scans read
    only new and changed files and notice deleted and moved ones.
    """
    async def work(db: Database):
        scanner = Scanner(db, app.host, app.settings, progress=_ProgressLine())
        return await scanner.scan(list(paths) or None, full=full)

    result = app.run(work)
    if fmt == "json":
        _emit_json(result.as_dict())
        return
    c = result.counts
    click.echo(f"Scanned {c.files_seen} files in {result.duration_s:.1f} s: {c.new} new, {c.changed} changed, "
               f"{c.unchanged} unchanged, {c.moved} moved, {c.removed} removed, {c.errors} errors.")
    for error in result.errors[:10]:
        click.echo(f"  error: {error['path']}: {error['error']}", err=True)
    if len(result.errors) > 10:
        click.echo(f"  … and {c.errors - 10} more (use --format json for the list)", err=True)


# -- ls ----------------------------------------------------------------------------------------

@cli.command()
@click.argument("query", nargs=-1)
@click.option("--limit", type=click.IntRange(min=1), help="at most this many tracks")
@FORMAT
@click.pass_obj
def ls(app: App, query: tuple[str, ...], limit: int | None, fmt: str) -> None:
    """List tracks matching QUERY: free words and field:value terms.

    Fields: album, albumartist, artist, bpm, disc, format, genre, key, missing,
    path, title, track, year. Numbers take ranges: year:1990..1999, bpm:120..
    Example: soniquebay ls artist:björk year:1997
    """
    parsed = track_query.parse(list(query))

    async def work(db: Database) -> None:
        shown = 0
        async with db.engine.connect() as conn:
            async for track in track_query.tracks(conn, parsed):
                if fmt == "json":
                    _emit_json(track)
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
    from .demo import make_demo_library

    click.echo(f"Wrote a demo library of {make_demo_library(folder)} tracks in {folder}")


# -- stats, plugins, config --------------------------------------------------------------------

@cli.command()
@FORMAT
@click.pass_obj
def stats(app: App, fmt: str) -> None:
    """Library totals, and per stage: done / pending / failed."""
    async def work(db: Database) -> dict:
        async with db.engine.connect() as conn:
            return await library_stats(conn, app.host)

    data = app.run(work)
    if fmt == "json":
        _emit_json(data)
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


@cli.command()
@FORMAT
@click.pass_obj
def plugins(app: App, fmt: str) -> None:
    """Installed plugins: enabled or not and why, version, hooks, resource class."""
    infos = sorted(app.host.plugins.values(), key=lambda p: p.id)
    if fmt == "json":
        _emit_json([p.as_dict() for p in infos])
        return
    for p in infos:
        m = p.manifest
        mark = {"enabled": "+", "disabled": "-", "failed": "!"}[p.status]
        detail = f"v{m.version} {m.resource_class.value}" if m else ""
        click.echo(f"{mark} {p.id:<14} {p.status:<9} {detail:<16} hooks: {', '.join(p.hooks) or '-'}")
        click.echo(f"    {p.reason}")


@cli.command()
@FORMAT
@click.pass_obj
def config(app: App, fmt: str) -> None:
    """The settings in force (file + environment), secrets hidden."""
    data = effective_config(app.settings)
    if fmt == "json":
        _emit_json(data)
        return
    for key, value in _flatten(data):
        click.echo(f"{key} = {json.dumps(value, ensure_ascii=False)}")


def _flatten(data: dict, prefix: str = ""):
    for key, value in data.items():
        if isinstance(value, dict) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


# -- entry point -------------------------------------------------------------------------------

def _register_plugin_commands(app: App) -> None:
    """Let plugins add commands; a broken config must not break ``--help``."""
    try:
        host = app.host
    except SoniqueBayError:
        return  # reported again, as one line, by the command that needs the settings
    host.dispatch.call_each("register_commands", cli=cli,
                            on_error=lambda plugin, hook, exc: logging.getLogger("soniquebay").error(
                                "plugin %s could not add its commands: %s", plugin, exc))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    app = App(debug="--debug" in args)
    _register_plugin_commands(app)
    try:
        cli.main(args=args, prog_name="soniquebay", standalone_mode=False, obj=app)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except SoniqueBayError as exc:
        if app.debug:
            raise
        click.echo(f"soniquebay: {exc}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
