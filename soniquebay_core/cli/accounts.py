"""Users and API tokens: ``soniquebay user …`` and ``soniquebay token …``."""
from __future__ import annotations

import sys

import click
from sqlalchemy import select

from .. import auth
from ..models import User
from .app import FORMAT, App, cli, emit_json


@cli.group()
def user() -> None:
    """Who may use the API and the web interface."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(auth.ROLES), default="reader", show_default=True)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input (for scripts)")
@click.pass_obj
def user_add(app: App, name: str, role: str, password_stdin: bool) -> None:
    """Create a user; admins may scan, change settings and plugins, delete and batch-write."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(db):
        async with db.engine.begin() as conn:
            return await auth.add_user(conn, name, password, role)

    click.echo(f"Created {role} {name} (id {app.run(work)}).")


@user.command("list")
@FORMAT
@click.pass_obj
def user_list(app: App, fmt: str) -> None:
    async def work(db):
        async with db.engine.connect() as conn:
            return await auth.list_users(conn)

    users = app.run(work)
    if fmt == "json":
        emit_json(users)
    for u in users if fmt == "text" else ():
        click.echo(f"{u['name']} ({u['role']})")


@user.command("remove")
@click.argument("name")
@click.pass_obj
def user_remove(app: App, name: str) -> None:
    async def work(db):
        async with db.engine.begin() as conn:
            return await auth.remove_user(conn, name)

    if not app.run(work):
        raise click.ClickException(f"no user named {name!r}")
    click.echo(f"Removed {name} and their tokens.")


@cli.group()
def token() -> None:
    """API tokens for scripts: sent as 'Authorization: Bearer <token>'."""


@token.command("create")
@click.argument("name")
@click.option("--user", "user_name", required=True, help="whose token it is (and so its role)")
@click.pass_obj
def token_create(app: App, name: str, user_name: str) -> None:
    """Print a new token. It is shown this once: store it where your script can read it."""
    async def work(db):
        async with db.engine.begin() as conn:
            user_id = await conn.scalar(select(User.id).where(User.name == user_name))
            if user_id is None:
                raise click.ClickException(f"no user named {user_name!r}")
            return await auth.issue_token(conn, user_id, name)

    click.echo(app.run(work))


@token.command("list")
@FORMAT
@click.pass_obj
def token_list(app: App, fmt: str) -> None:
    async def work(db):
        async with db.engine.connect() as conn:
            return await auth.list_tokens(conn)

    tokens = app.run(work)
    if fmt == "json":
        emit_json(tokens)
        return
    for t in tokens:
        click.echo(f"{t['id']:>4}  {t['name']:<24} {t['user']:<16} last used {t['last_used_at'] or 'never'}")


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_obj
def token_revoke(app: App, token_id: int) -> None:
    async def work(db):
        async with db.engine.begin() as conn:
            return await auth.revoke_token(conn, token_id)

    if not app.run(work):
        raise click.ClickException(f"no token {token_id}")
    click.echo(f"Revoked token {token_id}.")
