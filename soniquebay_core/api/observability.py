"""Request ids, HTTP latency metrics and JSON logs.

Every request gets an id (the client's ``X-Request-ID`` if it sent a sane
one), returned in the response and attached to every log line written while
the request runs. Latency is counted per route template and status in
Prometheus histogram buckets, exposed by ``/metrics``.
"""
from __future__ import annotations

import contextvars
import itertools
import json
import logging
import os
import re
import time
from collections import defaultdict

from starlette.datastructures import Headers, MutableHeaders

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _request_ids():
    """Ids unique to this process run (a random prefix, then a count): no random bytes read per request."""
    prefix = os.urandom(4).hex()
    return (f"{prefix}{n:08x}" for n in itertools.count())


class HttpMetrics:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self.sums: dict[tuple[str, str, int], float] = defaultdict(float)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        counts = self.counts[key]
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                counts[i] += 1
        counts[-1] += 1
        self.sums[key] += seconds

    def prometheus(self) -> list[str]:
        lines = ["# HELP soniquebay_http_request_seconds HTTP request latency.",
                 "# TYPE soniquebay_http_request_seconds histogram"]
        for (method, route, status), counts in sorted(self.counts.items()):
            labels = f'method="{method}",route="{route}",status="{status}"'
            lines += [f'soniquebay_http_request_seconds_bucket{{{labels},le="{b}"}} {counts[i]}'
                      for i, b in enumerate(BUCKETS)]
            lines.append(f'soniquebay_http_request_seconds_bucket{{{labels},le="+Inf"}} {counts[-1]}')
            lines.append(f"soniquebay_http_request_seconds_sum{{{labels}}} {self.sums[(method, route, status)]:.6f}")
            lines.append(f"soniquebay_http_request_seconds_count{{{labels}}} {counts[-1]}")
        return lines


class RequestObserver:
    """Request ids and the latency histogram, for every request the process answers (the web interface's,
    answered by NiceGUI's own app, too: hence its own reference to the metrics, not ``request.app``'s).

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs every request a task and a stream."""

    def __init__(self, app, metrics: HttpMetrics):
        self.app = app
        self.metrics = metrics
        self._ids = _request_ids()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        rid = given if _SANE_ID.match(given) else next(self._ids)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before answering

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - started)
            request_id.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage(), "request_id": request_id.get()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def json_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
