"""Liveness/readiness (``/api/health``) and Prometheus metrics (``/metrics``)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from .deps import RuntimeDep

router = APIRouter(tags=["operations"])


@router.get("/api/health")
async def health(runtime: RuntimeDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with runtime.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # reported, not raised: this endpoint is what monitors read
        checks["database"] = f"unavailable: {type(exc).__name__}"
    if runtime.redis is not None:
        try:
            runtime.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unavailable: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if healthy else "degraded", "jobs": "embedded" if runtime.embedded
                         else "redis", "checks": checks}, status_code=200 if healthy else 503)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request, runtime: RuntimeDep) -> str:
    lines = ["# HELP soniquebay_stage_targets_total Stage targets by outcome.",
             "# TYPE soniquebay_stage_targets_total counter"]
    snapshot = runtime.metrics.snapshot()
    for m in snapshot:
        for outcome in ("done", "retry", "failed"):
            lines.append(f'soniquebay_stage_targets_total{{plugin="{m["plugin"]}",stage="{m["stage"]}",'
                         f'outcome="{outcome}"}} {m[outcome]:g}')
    lines += ["# HELP soniquebay_stage_seconds_total Time spent in stage jobs.",
              "# TYPE soniquebay_stage_seconds_total counter"]
    lines += [f'soniquebay_stage_seconds_total{{plugin="{m["plugin"]}",stage="{m["stage"]}"}} {m["seconds"]:g}'
              for m in snapshot]
    lines += ["# HELP soniquebay_queue_depth Jobs waiting per queue.", "# TYPE soniquebay_queue_depth gauge"]
    lines += [f'soniquebay_queue_depth{{queue="{name}"}} {depth}' for name, depth in runtime.queue.depths().items()]
    lines += ["# HELP soniquebay_track_columns_ready Whether the track lists' columns and JSON are held in memory "
              "as the library was when last asked (else the database answers).",
              "# TYPE soniquebay_track_columns_ready gauge",
              f"soniquebay_track_columns_ready {int(request.app.state.track_columns.ready)}"]
    lines += request.app.state.http_metrics.prometheus()
    return "\n".join(lines) + "\n"
