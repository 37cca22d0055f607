"""The FastAPI application: one runtime per process, JSON errors that leak nothing."""
from __future__ import annotations

import logging
import os
import re
import uuid
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from .. import auth
from ..config import Settings
from ..errors import DatabaseUnavailable, SoniqueBayError
from ..library.columns import KeptColumns
from ..plugins import PluginHost, load_plugins
from ..runtime import Runtime
from ..vectors import api as vectors
from . import accounts, admin, batch, covers, events, graphql, health, library, playlists, scans, search, stream
from .answers import Answers, KeptResponses, dumps
from .request_limits import RequestLimits
from .observability import HttpMetrics, RequestObserver
from .plugin_routes import mount_plugin_routes
from .security import LoginThrottle, current_user

log = logging.getLogger("soniquebay.api")


class ErrorDetail(BaseModel):
    status: int
    message: str
    details: list[dict] | None = Field(None, description="for invalid requests: where, and what is wrong")
    incident: str | None = Field(None, description="for internal errors: the id the server's log names")


class ErrorBody(BaseModel):
    error: ErrorDetail


OUT_OF_RANGE = re.compile(r"out of (int\d+ )?range")
ERROR_RESPONSES = {"4XX": {"model": ErrorBody, "description": "refused: the message says why"},
                   "5XX": {"model": ErrorBody, "description": "a dependency is down, or an internal error"}}


def error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message, **extra}}, status_code=status)


async def _first_admin(runtime: Runtime) -> None:
    """On a first start, SONIQUEBAY_ADMIN_USER / SONIQUEBAY_ADMIN_PASSWORD create the admin."""
    name, password = os.environ.get("SONIQUEBAY_ADMIN_USER"), os.environ.get("SONIQUEBAY_ADMIN_PASSWORD")
    if not (name and password):
        return
    async with runtime.db.engine.begin() as conn:
        if await auth.count_users(conn) == 0:
            await auth.add_user(conn, name, password, "admin")
            log.warning("created the first admin, %s, from the environment", name)


def create_app(settings: Settings, host: PluginHost | None = None, periodic_sweeps: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = await Runtime.open(settings, host)
        await _first_admin(runtime)
        app.state.runtime = runtime
        app.state.answers = Answers(runtime.db.engine)
        app.state.track_columns = KeptColumns(app.state.answers.connect, dumps)
        app.state.track_columns.start(await app.state.answers.generation())
        mount_plugin_routes(app)  # with the settings stored in the database
        if periodic_sweeps and runtime.embedded:
            runtime.start_periodic_sweeps()
        app.state.scans = {}
        app.state.login_throttle = LoginThrottle()
        app.state.events = events.EventHub(runtime.events)
        app.state.events.start()
        try:
            yield
        finally:
            await app.state.events.stop()
            for task in app.state.scans.values():
                task.cancel()
            await app.state.track_columns.close()
            await app.state.answers.close()
            await runtime.close()

    host = host or load_plugins(settings)
    # FastAPI's own OpenTelemetry hooks off: the API exports its metrics to Prometheus (/metrics), and with them
    # on every request looked up the global OpenTelemetry providers and the environment
    app = FastAPI(title="SoniqueBay", version="0.1.0", lifespan=lifespan,
                  description="Your music library: browse, stream, scan, automate.", responses=ERROR_RESPONSES,
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    app.state.http_metrics = HttpMetrics()
    app.add_middleware(KeptResponses, owner=app)  # inside the observer: kept answers get ids and metrics too
    app.add_middleware(RequestObserver, metrics=app.state.http_metrics)
    app.add_middleware(RequestLimits)
    signed_in = [Depends(current_user)]
    for module in (library, search, stream, scans, covers, playlists, batch, graphql, vectors):
        app.include_router(module.router, dependencies=signed_in)
    app.include_router(events.router)  # signs in per route: a WebSocket cannot send headers
    app.include_router(accounts.router)
    app.include_router(admin.router)
    app.include_router(health.router)
    if settings.api.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.api.cors_origins, allow_credentials=True,
                           allow_methods=["*"], allow_headers=["*"])

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        return error(422, "invalid request", details=details)

    @app.exception_handler(OverflowError)
    async def out_of_range(request: Request, exc: OverflowError) -> JSONResponse:
        return error(422, "a number in the request is out of range")  # SQLite's integers are 64-bit

    @app.exception_handler(DBAPIError)
    async def refused_by_database(request: Request, exc: DBAPIError) -> JSONResponse:
        if OUT_OF_RANGE.search(str(exc.orig)):  # PostgreSQL's: 32-bit columns, 64-bit ids
            return error(422, "a number in the request is out of range")
        return await crashed(request, exc)

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
