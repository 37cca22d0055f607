"""A cap on request bodies, so one oversized upload cannot fill the memory of a small machine.

The largest legitimate body is a batch of 500 tracks (well under a megabyte); anything declared or streamed
beyond ``MAX_BODY_BYTES`` is answered 413 before a route reads it. Bodies sent without a length
(chunked) are counted as they arrive.
"""
from __future__ import annotations

import json

MAX_BODY_BYTES = 8 * 2**20


class BodyTooLarge(Exception):
    pass


def _refusal(limit: int) -> tuple[dict, dict]:
    body = json.dumps({"error": {"status": 413, "message": f"request body over {limit // 2**20} MB"}}).encode()
    start = {"type": "http.response.start", "status": 413,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    return start, {"type": "http.response.body", "body": body}


class BodyLimit:
    def __init__(self, app, limit: int = MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            for message in _refusal(self.limit):
                await send(message)
            return None
        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge
            return message

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                for message in _refusal(self.limit):
                    await send(message)
