"""A sweep over every route of the API: who may call what, hostile paths and queries, hostile bodies, revocation.

The routes are read from the app itself, so a route added later is swept too: a mutating route is refused
to anonymous callers, and to readers unless it is one of the few a reader may use on their own things
(their play queue, playlists, tokens, session).
"""
from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from soniquebay_core.api.request_limits import MAX_BODY_BYTES
from soniquebay_core.api.security import admin_user

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# What a reader may change: their own session, tokens, play queue and playlists; GraphQL takes queries by POST
# and refuses a reader's mutations itself (tests/test_api_batch.py).
READER_MAY = re.compile(r"^/api/(auth/logout|tokens.*|queue.*|playlists.*|graphql)$")
# What must need the admin role whatever the code says (the API issue's list), so a wrong dependency shows.
ADMIN_ONLY = re.compile(r"^/api/(scans.*|settings|plugins/\{plugin_id\}|jobs/retry|analyse|artists|albums|tracks"
                        r"|tracks/\{track_id\}/features)$")
PUBLIC = {"/api/auth/login"}
HOSTILE_SEGMENTS = ["..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%2F", "-1", "0",
                    "99999999999999999999999", "1e3", "%00", "etc%2Fpasswd", "%2Fetc%2Fpasswd", "1;DROP TABLE tracks"]
HOSTILE_VALUES = ["../../../../etc/passwd", "/etc/passwd", "..\\..\\windows\\win.ini", "\x00", "' OR 1=1 --",
                  "%", "_", "*", "a" * 5000, "-1", "1e309", "NaN", "99999999999999999999999", "-9223372036854775809"]
SECRET_FILE = "root:x:0:0"


def routes(app) -> list[tuple[str, str, RouteContext]]:
    found = []
    for route in iter_route_contexts(app.routes):  # routers included in the app, plugins' too
        if isinstance(route.original_route, APIRoute):
            for method in sorted(route.methods - {"HEAD"}):
                found.append((method, route.path, route))
    assert len(found) > 40, "the sweep must see the whole API"
    return found


def needs_admin(route: RouteContext) -> bool:
    def walk(dependant) -> bool:
        return any(d.call is admin_user or walk(d) for d in dependant.dependencies)
    return walk(route.dependant)


def concrete(path: str, value: str = "1") -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def client(app, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers)


async def test_every_mutating_route_refuses_anonymous_and_readers(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    mutating = [(m, p, r) for m, p, r in routes(app) if m in MUTATING and p not in PUBLIC]
    async with client(app) as anonymous, client(app, tokens["reader"]) as reader:
        for method, path, route in mutating:
            answer = await anonymous.request(method, concrete(path), json={})
            assert answer.status_code == 401, f"{method} {path} answered {answer.status_code} to an anonymous caller"
            assert answer.json()["error"]["message"]
            admin = needs_admin(route)
            assert admin or READER_MAY.match(path), f"{method} {path} is open to readers"
            if ADMIN_ONLY.match(path):
                assert admin, f"{method} {path} must need the admin role"
            if admin:
                answer = await reader.request(method, concrete(path), json={})
                assert answer.status_code == 403, f"{method} {path} answered {answer.status_code} to a reader"
        for method, path, _ in routes(app):  # reading needs a user too, but for health and login
            if method == "GET" and path not in ("/api/health", "/metrics", "/api/events/ws") \
                    and path.startswith("/api/") and "{" not in path and path != "/api/events":
                assert (await anonymous.get(path)).status_code == 401, f"GET {path} is open to anyone"


async def test_hostile_path_and_query_values_never_leak_or_crash(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    async with client(app, tokens["admin"]) as admin:
        for method, path, route in routes(app):
            if "{" not in path or method not in ("GET", "DELETE"):
                continue
            for segment in HOSTILE_SEGMENTS:
                answer = await admin.request(method, concrete(path, segment))
                assert answer.status_code in (307, 400, 404, 405, 409, 422), \
                    f"{method} {concrete(path, segment)} answered {answer.status_code}"
                assert SECRET_FILE not in answer.text and "Traceback" not in answer.text
        for method, path, route in routes(app):
            if method != "GET" or path in ("/api/events",) or "/stream" in path:
                continue
            names = [p.alias for p in route.dependant.query_params]
            for name in names:
                for value in HOSTILE_VALUES:
                    answer = await admin.get(concrete(path), params={name: value})
                    assert answer.status_code < 500, f"GET {path}?{name}={value[:20]!r} answered {answer.status_code}"
                    assert SECRET_FILE not in answer.text and "Traceback" not in answer.text
                    if answer.status_code >= 400:
                        assert answer.json()["error"]["message"]


async def test_scans_outside_the_library_are_refused(app_and_tokens, tmp_path):
    app, tokens, root, _ = app_and_tokens
    async with client(app, tokens["admin"]) as admin:
        for outside in ("/etc", str(root / ".." / ".."), str(tmp_path), "relative/path", "/"):
            answer = await admin.post("/api/scans", json={"path": outside})
            assert answer.status_code in (400, 403, 422), f"scan of {outside} answered {answer.status_code}"
            assert "Traceback" not in answer.text


async def test_malformed_and_oversized_bodies(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    bodies = [b"{", b"null", b"[]", b'"text"', b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", b"\xff\xfe",
              b'{"track_ids": ["x"]}', b'{"enabled": "maybe"}', b'{"name": ' + b'"x"' * 3 + b"}",
              b'{"name": "nul \\u0000 inside", "path": "\\u0000", "items": [{"name": "\\u0000"}]}']
    async with client(app, tokens["admin"]) as admin:
        for method, path, route in routes(app):
            if method not in ("POST", "PUT", "PATCH") or route.body_field is None:
                continue
            for body in bodies:
                answer = await admin.request(method, concrete(path), content=body,
                                             headers={"Content-Type": "application/json"})
                assert answer.status_code in (200, 201, 202, 400, 404, 409, 413, 422), \
                    f"{method} {path} with {body[:20]!r} answered {answer.status_code}: {answer.text[:200]}"
                assert "Traceback" not in answer.text
                assert answer.status_code < 400 or answer.json()["error"]["message"]
        huge = b'{"name": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
        answer = await admin.post("/api/playlists", content=huge, headers={"Content-Type": "application/json"})
        assert answer.status_code == 413 and "request body over" in answer.json()["error"]["message"]

        async def chunks():
            for _ in range(MAX_BODY_BYTES // 2**20 + 2):
                yield b"x" * 2**20

        streamed = await admin.post("/api/playlists", content=chunks(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413, streamed.text
        lying = await admin.post("/api/playlists", content=b"{}", headers={"Content-Length": "abc"})
        assert lying.status_code in (400, 413)


@pytest.mark.parametrize("how", ["token", "session"])
async def test_revocation_takes_effect_at_once(app_and_tokens, how):
    app, tokens, _, _ = app_and_tokens
    async with client(app) as anonymous:
        login = await anonymous.post("/api/auth/login", json={"name": "rex", "password": "battery staple"})
        assert login.status_code == 200
        if how == "session":
            assert (await anonymous.get("/api/auth/me")).status_code == 200
            assert (await anonymous.post("/api/auth/logout")).status_code == 200
            assert (await anonymous.get("/api/auth/me")).status_code == 401
            return
    async with client(app, tokens["reader"]) as reader:
        made = await reader.post("/api/tokens", json={"name": "script"})
        assert made.status_code == 201
        async with client(app, made.json()["token"]) as script:
            assert (await script.get("/api/tracks", params={"limit": 1})).status_code == 200
            assert (await reader.delete(f"/api/tokens/{made.json()['id']}")).status_code == 200
            assert (await script.get("/api/tracks", params={"limit": 1})).status_code == 401
        theirs = (await reader.post("/api/tokens", json={"name": "another"})).json()
        async with client(app, tokens["admin"]) as admin, client(app, theirs["token"]) as another:
            assert (await another.get("/api/auth/me")).status_code == 200
            assert (await admin.delete(f"/api/tokens/{theirs['id']}")).status_code == 200  # an admin may
            assert (await another.get("/api/auth/me")).status_code == 401
            mine = (await admin.post("/api/tokens", json={"name": "admin's"})).json()
            assert (await reader.delete(f"/api/tokens/{mine['id']}")).status_code == 404  # a reader may not
            assert (await reader.get("/api/auth/me")).status_code == 200
