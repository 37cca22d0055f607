"""SoniqueBay's web interface: NiceGUI pages mounted on the API's FastAPI app, in the same process."""
from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    """Serve the interface at ``/`` beside ``/api`` (the API's routes are matched first).

    NiceGUI keeps one global set of pages, so this is done once per process.
    """
    from nicegui import app as nicegui_app
    from nicegui import ui

    from . import api, login, shell

    # The API's request observer also sees the interface's requests, which NiceGUI's own app answers:
    # both record into the one latency histogram.
    nicegui_app.state.http_metrics = app.state.http_metrics

    api.bind(app)
    login.register()
    shell.head()
    ui.run_with(app, root=shell.root, title="SoniqueBay", dark=None, favicon=shell.STATIC / "favicon.svg",
                 show_welcome_message=False, reconnect_timeout=10.0)
