"""SoniqueBay's web interface: NiceGUI pages mounted on the API's FastAPI app, in the same process."""
from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Match, Mount
from starlette.types import Scope


class InterfaceMount(Mount):
    """The interface at ``/``, leaving every ``/api`` path to the API.

    A plain mount at ``/`` would answer unknown API paths with the interface's HTML 404 page and would
    hide the routes a plugin adds after start-up (they are appended behind it). Refusing ``/api`` here lets
    the router go on to those routes and, when none matches, to the API's own JSON 404.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if path == "/api" or path.startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)


def mount(app: FastAPI) -> None:
    """Serve the interface at ``/`` beside ``/api``.

    NiceGUI keeps one global set of pages, so this is done once per process.
    """
    from nicegui import app as nicegui_app
    from nicegui import ui

    from . import api, login, shell

    api.bind(app)
    login.register()
    shell.head()
    ui.run_with(app, root=shell.root, title="SoniqueBay", dark=None, favicon=shell.STATIC / "favicon.svg",
                 show_welcome_message=False, reconnect_timeout=10.0)
    routes = app.router.routes
    index = next(i for i, r in enumerate(routes) if isinstance(r, Mount) and r.app is nicegui_app)
    routes[index] = InterfaceMount(routes[index].path, app=nicegui_app, name=routes[index].name)
