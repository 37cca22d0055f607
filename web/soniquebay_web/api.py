"""The REST API as the interface sees it: called in process, as the signed-in user.

Every page and button goes through the same routes a script would use, with
the browser's session token, so roles, validation and errors are the API's.
The calls never leave the process (``httpx.ASGITransport``).
"""
from __future__ import annotations

import logging
from typing import Any

import httpx

_client: httpx.AsyncClient | None = None


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def bind(app) -> None:
    """Point the interface at ``app`` (the FastAPI application serving ``/api``)."""
    global _client
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per in-process call is noise
    _client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://soniquebay",
                                timeout=60)


class Api:
    def __init__(self, token: str | None):
        self.token = token

    async def call(self, method: str, path: str, params: dict | None = None, json: Any = None) -> Any:
        if _client is None:
            raise RuntimeError("soniquebay_web.api.bind(app) was not called")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        response = await _client.request(method, path, params=query, json=json, headers=headers)
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:200] or response.reason_phrase
            raise ApiError(response.status_code, message)
        return response.json()

    async def get(self, path: str, **params) -> Any:
        return await self.call("GET", path, params=params)

    async def post(self, path: str, json: Any = None) -> Any:
        return await self.call("POST", path, json=json)

    async def put(self, path: str, json: Any = None) -> Any:
        return await self.call("PUT", path, json=json)

    async def patch(self, path: str, json: Any = None) -> Any:
        return await self.call("PATCH", path, json=json)

    async def delete(self, path: str) -> Any:
        return await self.call("DELETE", path)
