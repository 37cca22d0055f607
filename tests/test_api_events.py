"""Live events over SSE (with resume) and WebSocket, fed by real scans and stage jobs."""
from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import pytest


async def read_sse(client: httpx.AsyncClient, count: int, headers: dict | None = None, **params) -> list[dict]:
    """The first ``count`` events (and heartbeats, as {'heartbeat': True}) of the stream."""
    found: list[dict] = []
    async with client.stream("GET", "/api/events", params=params, headers=headers or {}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        block: dict = {}
        async for line in response.aiter_lines():
            if line.startswith(": heartbeat"):
                found.append({"heartbeat": True})
            elif line.startswith("id: "):
                block["seq"] = int(line[4:])
            elif line.startswith("event: "):
                block["event"] = line[7:]
            elif line.startswith("data: "):
                block["data"] = json.loads(line[6:])
            elif line == "" and block:
                found.append(block)
                block = {}
            if len(found) >= count:
                return found
    return found


@contextlib.asynccontextmanager
async def served(app):
    """The app on a real local port (an in-memory transport would buffer an endless stream)."""
    import socket

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning",
                                           timeout_graceful_shutdown=2))
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_sse_streams_scan_and_stage_events_and_resumes(app_and_tokens):
    app, tokens, root, manifest = app_and_tokens
    auth_header = {"Authorization": f"Bearer {tokens['admin']}"}
    async with served(app) as base_url, httpx.AsyncClient(base_url=base_url, headers=auth_header,
                                                          timeout=30) as client:
        assert (await client.get("/api/events", headers={"Authorization": "Bearer sb_wrong"})).status_code == 401
        reader = asyncio.get_running_loop().create_task(read_sse(client, 2, channel="progress"))
        await asyncio.sleep(0.2)
        started = await client.post("/api/scans", json={"full": True})
        assert started.status_code == 202
        events = await asyncio.wait_for(reader, 30)
        assert all(e["data"]["type"].startswith(("scan.", "stage.")) for e in events)
        assert events[0]["event"] == events[0]["data"]["type"] and events[1]["seq"] > events[0]["seq"]

        for _ in range(200):  # let the scan finish
            if (await client.get(started.json()["status_url"])).json()["status"] != "running":
                break
            await asyncio.sleep(0.05)
        missed = await read_sse(client, 1, headers={"Last-Event-ID": str(events[0]["seq"])})
        assert missed[0]["seq"] == events[0]["seq"] + 1  # replayed from the backlog

        quiet = await read_sse(client, 1, heartbeat=0.1, channel="notifications")
        assert quiet == [{"heartbeat": True}]


async def test_websocket_mirror_needs_a_token(app_and_tokens):
    import websockets

    app, tokens, root, manifest = app_and_tokens
    async with served(app) as base_url:
        url = base_url.replace("http://", "ws://") + "/api/events/ws"
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(url) as ws:
                await ws.recv()
        assert refused.value.response.status_code == 403
        async with websockets.connect(f"{url}?token={tokens['reader']}") as ws:
            await asyncio.sleep(0.1)
            await app.state.runtime.events.publish({"type": "notification", "task_id": "x", "text": "hi"})
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message["type"] == "notification" and message["text"] == "hi" and message["id"] >= 1
