"""Looking at the installation: plugins, config."""
from __future__ import annotations

import json

import click

from ..config import effective_config
from .app import FORMAT, App, cli, emit_json


@cli.command()
@FORMAT
@click.pass_obj
def plugins(app: App, fmt: str) -> None:
    """Installed plugins: enabled or not and why, version, hooks, resource class."""
    async def work(runtime):  # the runtime lays the switches stored from the API over the config
        return sorted(runtime.host.plugins.values(), key=lambda p: p.id)

    infos = app.run_runtime(work)
    if fmt == "json":
        emit_json([p.as_dict() for p in infos])
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
        emit_json(data)
        return
    for key, value in _flatten(data):
        click.echo(f"{key} = {json.dumps(value, ensure_ascii=False)}")


def _flatten(data: dict, prefix: str = ""):
    for key, value in data.items():
        if isinstance(value, dict) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value




@cli.command()
@FORMAT
@click.pass_obj
def doctor(app: App, fmt: str) -> None:
    """Check config, database, plugins, Redis and workers; say what is wrong and how to fix it."""
    import asyncio
    import sys

    from ..doctor import diagnose

    findings = asyncio.run(diagnose(app.settings, app.host))
    if fmt == "json":
        emit_json([f.as_dict() for f in findings])
    else:
        for f in findings:
            click.echo(f"{f.level.upper():<4} {f.check}: {f.detail}")
            if f.fix:
                click.echo(f"     → {f.fix}")
    if any(f.level == "fail" for f in findings):
        sys.exit(1)
