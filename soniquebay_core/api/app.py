"""The FastAPI application: one runtime per process, JSON errors that leak nothing."""
from __future__ import annotations

import logging
import uuid
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..config import Settings
from ..errors import DatabaseUnavailable, SoniqueBayError
from ..plugins import PluginHost, load_plugins
from ..runtime import Runtime
from . import health, library, scans, stream

log = logging.getLogger("soniquebay.api")


def error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message, **extra}}, status_code=status)


def create_app(settings: Settings, host: PluginHost | None = None, periodic_sweeps: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = await Runtime.open(settings, host or load_plugins(settings))
        if periodic_sweeps and runtime.embedded:
            runtime.start_periodic_sweeps()
        app.state.runtime = runtime
        app.state.scans = {}
        try:
            yield
        finally:
            for task in app.state.scans.values():
                task.cancel()
            await runtime.close()

    app = FastAPI(title="SoniqueBay", version="0.1.0", lifespan=lifespan,
                  description="Your music library: browse, stream, scan, automate.")
    for module in (library, stream, scans, health):
        app.include_router(module.router)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        return error(422, "invalid request", details=details)

    @app.exception_handler(DatabaseUnavailable)
    async def database_down(request: Request, exc: DatabaseUnavailable) -> JSONResponse:
        return error(503, "the library database is unavailable")

    @app.exception_handler(SoniqueBayError)
    async def refused(request: Request, exc: SoniqueBayError) -> JSONResponse:
        return error(400, str(exc))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.exception("request %s %s failed (incident %s)", request.method, request.url.path, incident)
        return error(500, "internal error", incident=incident)

    return app
