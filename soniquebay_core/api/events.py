"""Live events over HTTP: Server-Sent Events with heartbeats and resume, and a WebSocket mirror.

One ``EventHub`` per API process listens to the pipeline's event bus (in
process, or Redis pub/sub when workers run elsewhere), numbers what it hears
and keeps the last ``BACKLOG`` events, so a client that reconnects with
``Last-Event-ID`` gets what it missed. Channels: ``progress`` (scans and stage
jobs) and ``notifications`` (everything else).
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse

from .. import auth
from .security import UserDep

router = APIRouter(prefix="/api/events", tags=["events"])

BACKLOG = 500
HEARTBEAT_S = 15.0
PROGRESS = ("scan.", "stage.")


def channel_of(event: dict) -> str:
    return "progress" if str(event.get("type", "")).startswith(PROGRESS) else "notifications"


class EventHub:
    def __init__(self, bus) -> None:
        self.bus = bus
        self.recent: deque[tuple[int, dict]] = deque(maxlen=BACKLOG)
        self._ids = itertools.count(1)
        self._listeners: set[asyncio.Queue] = set()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._pump())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _pump(self) -> None:
        async for event in self.bus.subscribe():
            numbered = (next(self._ids), event)
            self.recent.append(numbered)
            for queue in list(self._listeners):
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(numbered)

    async def follow(self, after: int | None, channel: str | None,
                     heartbeat: float = HEARTBEAT_S) -> AsyncIterator[tuple[int, dict] | None]:
        """Missed events after ``after``, then live ones; ``None`` when it is time for a heartbeat."""
        queue: asyncio.Queue = asyncio.Queue(BACKLOG)
        self._listeners.add(queue)
        try:
            if after is not None:
                for numbered in list(self.recent):
                    if numbered[0] > after and channel in (None, channel_of(numbered[1])):
                        yield numbered
            while True:
                try:
                    numbered = await asyncio.wait_for(queue.get(), heartbeat)
                except TimeoutError:
                    yield None
                    continue
                if after is not None and numbered[0] <= after:
                    continue
                if channel in (None, channel_of(numbered[1])):
                    yield numbered
        finally:
            self._listeners.discard(queue)


def _after(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@router.get("", response_class=StreamingResponse)
async def stream_events(request: Request, _: UserDep,
                        channel: str | None = Query(None, pattern="^(progress|notifications)$"),
                        heartbeat: float = Query(HEARTBEAT_S, ge=0.05, le=60)) -> StreamingResponse:
    """Server-Sent Events: ``id``, ``event`` (the type) and JSON ``data``; a comment line as heartbeat."""
    hub: EventHub = request.app.state.events
    after = _after(request.headers.get("last-event-id"))

    async def body():
        yield "retry: 3000\n\n"
        async for numbered in hub.follow(after, channel, heartbeat):
            if await request.is_disconnected():
                return
            if numbered is None:
                yield ": heartbeat\n\n"
                continue
            seq, event = numbered
            yield f"id: {seq}\nevent: {event.get('type', 'message')}\ndata: {json.dumps(event, default=str)}\n\n"

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.websocket("/ws")
async def websocket_events(websocket: WebSocket, channel: str | None = None, token: str | None = None) -> None:
    """The same events as JSON messages. Browsers cannot send headers here: the session cookie or
    ``?token=`` authenticates."""
    secret = token or websocket.cookies.get("sb_session")
    async with websocket.app.state.runtime.db.engine.begin() as conn:
        principal = await auth.principal_for(conn, secret) if secret else None
    if principal is None:
        await websocket.close(code=1008, reason="authentication required")  # the handshake gets a 403
        return
    await websocket.accept()
    hub: EventHub = websocket.app.state.events
    try:
        async for numbered in hub.follow(_after(websocket.query_params.get("after")), channel):
            if numbered is None:  # the heartbeat is also how a vanished client is noticed
                await websocket.send_json({"type": "heartbeat"})
                continue
            seq, event = numbered
            await websocket.send_json({"id": seq, **{k: v for k, v in event.items() if k != "id"}})
    except (WebSocketDisconnect, RuntimeError):  # RuntimeError: sending on a closed socket
        return
