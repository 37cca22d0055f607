"""What every request must respect before a route sees it.

- A cap on bodies, so one oversized upload cannot fill the memory of a small machine. The largest
  legitimate body is a batch of 500 tracks (well under a megabyte); anything declared or streamed beyond
  ``MAX_BODY_BYTES`` is answered 413 before a route reads it. Bodies sent without a length (chunked) are
  counted as they arrive.
- No NUL character in the path or the query: no name, title or search holds one, and PostgreSQL refuses
  them in text, so they are answered 400 here rather than failing deep in a query.
"""
from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

MAX_BODY_BYTES = 8 * 2**20


def _refusal(status: int, message: str) -> tuple[dict, dict]:
    body = json.dumps({"error": {"status": status, "message": message}}).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    return start, {"type": "http.response.body", "body": body}


class RequestLimits:
    def __init__(self, app, limit: int = MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            for message in _refusal(400, "NUL characters are not allowed in paths or queries"):
                await send(message)
            return None
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            for message in _refusal(413, self.too_large):
                await send(message)
            return None
        seen = 0
        started = refused = False

        async def counted_receive():
            # Past the limit the route is told the client left (a route would turn an exception raised
            # here into its own 400) and the 413 is answered here; whatever the route sends after is dropped.
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit and not refused:
                    refused = True
                    if not started:
                        for refusal in _refusal(413, self.too_large):
                            await send(refusal)
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message):
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted_receive, tracked_send)

    @property
    def too_large(self) -> str:
        return f"request body over {self.limit // 2**20} MB"
