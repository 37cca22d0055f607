"""Plugins, settings and jobs: what an admin looks at and changes.

Plugins can be switched on and off by name (stored in the database, reloaded
at once); "analyse now" and "retry" enqueue urgent jobs ahead of background
work.
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from ..config import effective_config
from ..models import Track
from ..pipeline import sweep as sweeps
from ..stages import STAGE_HOOKS, stage_summary
from .deps import ConnDep, RuntimeDep
from .plugin_routes import mount_plugin_routes
from .security import AdminDep, UserDep

router = APIRouter(prefix="/api", tags=["admin"])


def _plugin_json(info) -> dict:
    m = info.manifest
    return {**info.as_dict(), "description": m.description if m else "",
            "requires_binaries": list(m.requires_binaries) if m else [],
            "min_memory_mb": m.min_memory_mb if m else 0, "essential": bool(m and m.essential)}


@router.get("/plugins")
async def list_plugins(runtime: RuntimeDep, _: UserDep) -> list[dict]:
    return [_plugin_json(p) for p in sorted(runtime.host.plugins.values(), key=lambda p: p.id)]


class Switch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool


@router.put("/plugins/{plugin_id}")
async def switch_plugin(request: Request, runtime: RuntimeDep, _: AdminDep, plugin_id: str, body: Switch) -> dict:
    info = runtime.host.plugins.get(plugin_id)
    if info is None:
        raise HTTPException(404, f"no plugin named {plugin_id!r}")
    if info.manifest and info.manifest.essential and not body.enabled:
        raise HTTPException(409, f"{plugin_id} is essential and cannot be disabled")
    await runtime.switch_plugin(plugin_id, body.enabled)
    mount_plugin_routes(request.app)
    return _plugin_json(runtime.host.plugins[plugin_id])


@router.get("/settings")
async def settings(runtime: RuntimeDep, _: AdminDep) -> dict:
    """The settings in force, secrets hidden."""
    return effective_config(runtime.settings)


@router.patch("/settings")
async def change_settings(request: Request, runtime: RuntimeDep, _: AdminDep,
                          patch: Annotated[dict[str, Any], Body(examples=[{"profile": "pi", "plugins": {
                              "covers": {"enabled": True, "lastfm_api_key": "..."}}}])]) -> dict:
    """Change the hardware profile, library roots, scanner, job or plugin settings; stored, in force at once.

    Send only what changes; ``null`` removes an override (the config file's value is back); a secret sent
    back as shown (``***``) stays as it is. Where data lives (data dir, database, Redis) and the API's own
    settings are the config file's: refused here.
    """
    await runtime.change_settings(patch)
    mount_plugin_routes(request.app)
    return effective_config(runtime.settings)


@router.get("/jobs")
async def jobs(runtime: RuntimeDep, conn: ConnDep, _: UserDep) -> dict:
    return {"mode": "embedded" if runtime.embedded else "redis", "queues": runtime.queue.depths(),
            "stages": await stage_summary(conn, runtime.host), "metrics": runtime.metrics.snapshot()}


@router.get("/jobs/failed")
async def failed_jobs(runtime: RuntimeDep, _: AdminDep) -> dict:
    return await sweeps.failed(runtime)


class Retry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    track_ids: list[int] | None = Field(None, max_length=10_000)
    plugin: str | None = None
    stages: list[str] | None = None


@router.post("/jobs/retry", status_code=202)
async def retry(runtime: RuntimeDep, _: AdminDep, body: Retry) -> dict:
    _check_stages(body.stages)
    ids, count = await sweeps.retry_failed(runtime, body.track_ids, body.plugin,
                                           tuple(body.stages) if body.stages else None)
    return {"tracks": len(ids), "jobs": count}


class Analyse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    track_ids: list[int] = Field(default_factory=list, max_length=10_000)
    album_id: int | None = None
    stages: list[str] | None = None


@router.post("/analyse", status_code=202)
async def analyse(runtime: RuntimeDep, conn: ConnDep, _: AdminDep, body: Analyse) -> dict:
    """Run the stages now for some tracks, or a whole album, ahead of background work."""
    _check_stages(body.stages)
    ids = list(body.track_ids)
    if body.album_id is not None:
        ids += (await conn.execute(select(Track.id).where(Track.album_id == body.album_id))).scalars().all()
    if not ids:
        raise HTTPException(422, "name tracks (track_ids) or an album (album_id)")
    count = await runtime.analyse_now(sorted(set(ids)), tuple(body.stages) if body.stages else None)
    return {"tracks": len(set(ids)), "jobs": count}


def _check_stages(stages: list[str] | None) -> None:
    unknown = sorted(set(stages or ()) - set(STAGE_HOOKS))
    if unknown:
        raise HTTPException(422, f"unknown stages: {', '.join(unknown)}; stages are {', '.join(STAGE_HOOKS)}")
