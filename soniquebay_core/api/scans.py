"""Scans over HTTP: start one (a library root or a folder inside one), watch it, cancel it."""
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from ..models import Root, Scan
from .deps import ConnDep, DbId, RuntimeDep
from .security import AdminDep

router = APIRouter(prefix="/api/scans", tags=["scans"])


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str | None = None  # a library root or a folder inside one; none: every root
    full: bool = False


def _scan_json(row) -> dict:
    return {"id": row.id, "status": row.status, "paths": row.paths, "full": row.full,
            "started_at": row.started_at, "finished_at": row.finished_at, "counts": row.counts, "error": row.error}


@router.post("", status_code=202)
async def start_scan(request: Request, runtime: RuntimeDep, conn: ConnDep, _: AdminDep,
                     body: ScanRequest | None = None) -> dict:
    """Start a scan; answers at once with a task id to follow (``GET /api/scans/tasks/{id}``)."""
    body = body or ScanRequest()
    roots = [*(await conn.execute(select(Root.path))).scalars().all(), *map(str, runtime.settings.library.roots)]
    paths = None
    if body.path is not None:
        wanted = Path(body.path).resolve()
        if not any(wanted == Path(r) or Path(r) in wanted.parents for r in roots):
            raise HTTPException(403, "only library roots and folders inside them can be scanned")
        paths = [wanted]
    elif not roots:
        raise HTTPException(409, "no library root yet: set library.roots in the config file, "
                                 "or scan a folder from the command line first")
    task_id = uuid.uuid4().hex
    tasks: dict[str, asyncio.Task] = request.app.state.scans
    tasks[task_id] = asyncio.get_running_loop().create_task(runtime.scan(paths, full=body.full))
    return {"task_id": task_id, "status_url": f"/api/scans/tasks/{task_id}"}


@router.get("/tasks/{task_id}")
async def scan_task(request: Request, task_id: str) -> dict:
    task: asyncio.Task | None = request.app.state.scans.get(task_id)
    if task is None:
        raise HTTPException(404, f"no scan task {task_id}")
    if not task.done():
        return {"task_id": task_id, "status": "running"}
    if task.cancelled():
        return {"task_id": task_id, "status": "cancelled"}
    if task.exception() is not None:
        return {"task_id": task_id, "status": "failed", "error": str(task.exception())}
    return {"task_id": task_id, "status": "completed", "result": task.result().as_dict()}


@router.delete("/tasks/{task_id}", status_code=202)
async def cancel_scan(request: Request, task_id: str, _: AdminDep) -> dict:
    task: asyncio.Task | None = request.app.state.scans.get(task_id)
    if task is None:
        raise HTTPException(404, f"no scan task {task_id}")
    task.cancel()
    return {"task_id": task_id, "status": "cancelling"}


@router.get("")
async def list_scans(conn: ConnDep, limit: int = 20) -> list[dict]:
    rows = await conn.execute(select(Scan.__table__).order_by(Scan.id.desc()).limit(min(max(limit, 1), 200)))
    return [_scan_json(r) for r in rows]


@router.get("/{scan_id}")
async def get_scan(conn: ConnDep, scan_id: DbId) -> dict:
    row = (await conn.execute(select(Scan.__table__).where(Scan.id == scan_id))).first()
    if row is None:
        raise HTTPException(404, f"no scan {scan_id}")
    return _scan_json(row)
