"""``soniquebay serve``: the REST API and the web interface in one process."""
from __future__ import annotations

import click

from .app import App, cli


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on; 0.0.0.0 exposes the library to your network (a deliberate choice)")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-web", is_flag=True, help="serve the API only, not the web interface")
@click.pass_obj
def serve(app: App, host: str, port: int, no_web: bool) -> None:
    """Serve the API and the web interface; without Redis, the pipeline's stages and periodic sweeps run
    here too."""
    import uvicorn

    from ..api.app import create_app
    from ..api.observability import json_logging

    json_logging()
    api = create_app(app.settings, app.host)
    if not no_web:
        try:  # the interface is its own package (soniquebay-web): the core runs without it
            import soniquebay_web
        except ImportError:
            click.echo("soniquebay-web is not installed: serving the API only", err=True)
        else:
            soniquebay_web.mount(api)
    uvicorn.run(api, host=host, port=port, log_config=None, access_log=False)
