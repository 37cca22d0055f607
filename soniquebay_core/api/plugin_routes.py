"""Plugins' own HTTP routes: each enabled plugin implementing ``register_api_routes`` gets ``/api/plugins/<id>/``.

Mounted at start-up with the settings in force, and again after a plugin is switched on or its settings
change while the server runs (a plugin's routes are added once per process; a disabled plugin's answer 404).
"""
from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request

from .security import current_user

log = logging.getLogger("soniquebay.api")


def mount_plugin_routes(app: FastAPI) -> None:
    host = app.state.runtime.host
    mounted: set[str] = app.state.__dict__.setdefault("plugin_routes", set())
    for impl in host.dispatch.impls("register_api_routes"):
        plugin = impl.plugin_name
        if plugin in mounted:
            continue
        router = APIRouter()
        host.dispatch.call_first("register_api_routes", order=[plugin], router=router,
                                 on_error=lambda p, h, exc: log.error("plugin %s could not add routes: %s", p, exc))

        async def still_enabled(request: Request, plugin: str = plugin) -> None:
            info = request.app.state.runtime.host.plugins.get(plugin)
            if info is None or not info.enabled:
                raise HTTPException(404, f"plugin {plugin} is disabled")

        app.include_router(router, prefix=f"/api/plugins/{plugin}", tags=[f"plugin {plugin}"],
                           dependencies=[Depends(current_user), Depends(still_enabled)])
        mounted.add(plugin)
    app.openapi_schema = None  # the next /openapi.json shows them
