"""Entry: builds the app, lets plugins add commands, turns errors into one line."""
from __future__ import annotations

import logging
import sys

import click

from ..errors import SoniqueBayError
from . import accounts, admin, jobs, library, serve  # noqa: F401  (registers the commands)
from .app import App, cli


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


