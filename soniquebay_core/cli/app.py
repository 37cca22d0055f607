"""The ``soniquebay`` command group and what every command shares."""
from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from ..config import Settings, load_settings
from ..db import Database
from ..plugins import PluginHost, load_plugins

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


    def run_runtime(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """Run with the whole runtime: database, job queue (embedded or RQ), events."""
        from ..runtime import Runtime

        async def go() -> T:
            runtime = await Runtime.open(self.settings, self.host)
            try:
                return await work(runtime)
            finally:
                await runtime.close()

        return asyncio.run(go())


def emit_json(data: Any) -> None:
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


