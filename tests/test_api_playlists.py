"""Playlists and the play queue through the REST API, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import delete, update

from soniquebay_core.models import Track


@asynccontextmanager
async def client_for(app, token: str):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


async def track_ids(client, count: int = 8) -> list[int]:
    page = (await client.get("/api/tracks", params={"limit": count})).json()
    assert len(page["items"]) == count
    return [t["id"] for t in page["items"]]


def order(body: dict) -> list[int]:
    return [t["id"] for t in body["tracks"]]


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def test_playlist_create_edit_and_delete_keep_exact_order(api):
    client, _, _ = api
    a, b, c, d, e, f, g, h = await track_ids(client)

    created = ok(await client.post("/api/playlists", json={"name": "  Road trip ", "track_ids": [a, b, c]}),
                       201)
    pid = created["id"]
    assert created["name"] == "Road trip" and order(created) == [a, b, c] and created["track_count"] == 3
    assert created["duration"] == pytest.approx(sum(t["duration"] for t in created["tracks"]))
    assert created["tracks"][0]["title"] and "stages" in created["tracks"][0]  # full track dicts

    steps = [
        ("post", "tracks", {"track_ids": [d, e]}, [a, b, c, d, e]),  # the end by default
        ("post", "tracks", {"track_ids": [f, a], "position": 1}, [a, f, a, b, c, d, e]),  # repeats allowed
        ("post", "tracks", {"track_ids": [g], "position": 0}, [g, a, f, a, b, c, d, e]),
        ("post", "tracks", {"track_ids": [h], "position": 8}, [g, a, f, a, b, c, d, e, h]),  # 8 = the end
        ("post", "move", {"from_position": 0, "to_position": 3}, [a, f, a, g, b, c, d, e, h]),
        ("post", "move", {"from_position": 8, "to_position": 0}, [h, a, f, a, g, b, c, d, e]),
        ("post", "move", {"from_position": 4, "to_position": 4}, [h, a, f, a, g, b, c, d, e]),
        ("delete", "tracks/2", None, [h, a, a, g, b, c, d, e]),
        ("delete", "tracks/0", None, [a, a, g, b, c, d, e]),
        ("delete", "tracks/6", None, [a, a, g, b, c, d]),
    ]
    for method, path, body, expected in steps:
        kwargs = {"json": body} if body is not None else {}
        changed = ok(await client.request(method.upper(), f"/api/playlists/{pid}/{path}", **kwargs))
        assert order(changed) == expected, (method, path, body)
        assert order(ok(await client.get(f"/api/playlists/{pid}"))) == expected

    renamed = ok(await client.patch(f"/api/playlists/{pid}", json={"name": "Night drive"}))
    assert renamed["name"] == "Night drive" and order(renamed) == [a, a, g, b, c, d]
    other = ok(await client.post("/api/playlists", json={"name": "Empty"}), 201)
    assert other["tracks"] == [] and other["track_count"] == 0 and other["duration"] == 0

    listed = ok(await client.get("/api/playlists"))
    assert listed["total"] == 2 and [p["name"] for p in listed["items"]] == ["Night drive", "Empty"]
    assert listed["items"][0]["track_count"] == 6 and "tracks" not in listed["items"][0]
    assert listed["items"][0]["duration"] == pytest.approx(renamed["duration"])
    assert (ok(await client.get("/api/playlists", params={"limit": 1, "offset": 1})))["items"][0]["name"] \
        == "Empty"

    assert ok(await client.delete(f"/api/playlists/{pid}")) == {"deleted": pid}
    assert (await client.get(f"/api/playlists/{pid}")).status_code == 404
    assert (await client.delete(f"/api/playlists/{pid}")).status_code == 404
    assert [p["id"] for p in (ok(await client.get("/api/playlists")))["items"]] == [other["id"]]


async def test_playlist_edits_refused_leave_it_unchanged(api):
    client, _, _ = api
    a, b, c = await track_ids(client, 3)
    pid = (ok(await client.post("/api/playlists", json={"name": "Mix", "track_ids": [a, b, c]}), 201))["id"]
    refused = [
        ("POST", f"/api/playlists/{pid}/tracks", {"track_ids": [a], "position": 4}),
        ("POST", f"/api/playlists/{pid}/tracks", {"track_ids": [a], "position": -1}),
        ("POST", f"/api/playlists/{pid}/tracks", {"track_ids": []}),
        ("POST", f"/api/playlists/{pid}/tracks", {"track_ids": [a], "colour": "red"}),  # unknown field
        ("POST", f"/api/playlists/{pid}/move", {"from_position": 3, "to_position": 0}),
        ("POST", f"/api/playlists/{pid}/move", {"from_position": 0, "to_position": 3}),
        ("DELETE", f"/api/playlists/{pid}/tracks/3", None),
        ("PATCH", f"/api/playlists/{pid}", {"name": "   "}),
        ("PATCH", f"/api/playlists/{pid}", {"name": ""}),
        ("POST", "/api/playlists", {"name": " "}),
        ("POST", "/api/playlists", {"track_ids": [a]}),
    ]
    for method, path, body in refused:
        response = await client.request(method, path, **({"json": body} if body is not None else {}))
        assert response.status_code == 422, (method, path, body, response.text)
        assert set(response.json()) == {"error"}
    out_of_range = await client.delete(f"/api/playlists/{pid}/tracks/3")
    assert out_of_range.json()["error"]["message"] == "position 3 is out of range (allowed: 0..2)"
    playlist = ok(await client.get(f"/api/playlists/{pid}"))
    assert playlist["name"] == "Mix" and order(playlist) == [a, b, c]
    assert (ok(await client.get("/api/playlists")))["total"] == 1


async def test_playlists_are_private_even_from_an_admin(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    async with client_for(app, tokens["admin"]) as admin, client_for(app, tokens["reader"]) as reader:
        a, b, c = await track_ids(admin, 3)
        theirs = (ok(await admin.post("/api/playlists", json={"name": "Ada's", "track_ids": [a, b]}), 201))
        pid = theirs["id"]
        assert (ok(await reader.get("/api/playlists")))["items"] == []
        attempts = [
            ("GET", f"/api/playlists/{pid}", None),
            ("PATCH", f"/api/playlists/{pid}", {"name": "Mine now"}),
            ("POST", f"/api/playlists/{pid}/tracks", {"track_ids": [c]}),
            ("POST", f"/api/playlists/{pid}/move", {"from_position": 0, "to_position": 1}),
            ("DELETE", f"/api/playlists/{pid}/tracks/0", None),
            ("DELETE", f"/api/playlists/{pid}", None),
        ]
        for method, path, body in attempts:
            response = await reader.request(method, path, **({"json": body} if body is not None else {}))
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["message"] == f"no playlist {pid}"

        own = (ok(await reader.post("/api/playlists", json={"name": "Rex's", "track_ids": [c]}), 201))
        assert (await admin.get(f"/api/playlists/{own['id']}")).status_code == 404  # the admin role grants nothing
        assert (await admin.delete(f"/api/playlists/{own['id']}")).status_code == 404
        assert [p["name"] for p in (ok(await admin.get("/api/playlists")))["items"]] == ["Ada's"]
        assert [p["name"] for p in (ok(await reader.get("/api/playlists")))["items"]] == ["Rex's"]
        unchanged = ok(await admin.get(f"/api/playlists/{pid}"))
        assert unchanged["name"] == "Ada's" and order(unchanged) == [a, b]


async def test_queue_edits_keep_order_and_follow_the_current_track(api):
    client, _, _ = api
    a, b, c, d, e, f, g, h = await track_ids(client)
    empty = ok(await client.get("/api/queue"))
    assert empty == {"tracks": [], "current": None}

    queue = ok(await client.put("/api/queue", json={"track_ids": [a, b, c, d], "current": 1}))
    assert order(queue) == [a, b, c, d] and queue["current"] == 1 and queue["tracks"][0]["title"]

    steps = [  # (method, path, body, order, current)
        ("POST", "tracks", {"track_ids": [e]}, [a, b, c, d, e], 1),  # the end by default
        ("POST", "tracks", {"track_ids": [f, g], "position": 2}, [a, b, f, g, c, d, e], 1),  # play next
        ("POST", "tracks", {"track_ids": [h], "position": 0}, [h, a, b, f, g, c, d, e], 2),  # before current
        ("POST", "move", {"from_position": 2, "to_position": 6}, [h, a, f, g, c, d, b, e], 6),  # current moves
        ("POST", "move", {"from_position": 7, "to_position": 0}, [e, h, a, f, g, c, d, b], 7),  # across it
        ("POST", "move", {"from_position": 0, "to_position": 7}, [h, a, f, g, c, d, b, e], 6),
        ("DELETE", "tracks/0", None, [a, f, g, c, d, b, e], 5),  # before current
        ("DELETE", "tracks/6", None, [a, f, g, c, d, b], 5),  # after current
        ("DELETE", "tracks/5", None, [a, f, g, c, d], 4),  # the current, last: the new last plays
        ("POST", "move", {"from_position": 4, "to_position": 1}, [a, d, f, g, c], 1),
        ("DELETE", "tracks/1", None, [a, f, g, c], 1),  # the current: the next one takes its place
    ]
    for method, path, body, expected, current in steps:
        changed = ok(await client.request(method, f"/api/queue/{path}",
                                                **({"json": body} if body is not None else {})))
        assert (order(changed), changed["current"]) == (expected, current), (method, path, body)
    assert (order(queue := ok(await client.get("/api/queue"))), queue["current"]) == ([a, f, g, c], 1)

    for method, path, body in [("POST", "/api/queue/tracks", {"track_ids": [a], "position": 5}),
                               ("DELETE", "/api/queue/tracks/4", None),
                               ("POST", "/api/queue/move", {"from_position": 0, "to_position": 4}),
                               ("PUT", "/api/queue", {"track_ids": [a, b], "current": 2}),
                               ("PUT", "/api/queue", {"track_ids": [], "current": 0})]:
        response = await client.request(method, path, **({"json": body} if body is not None else {}))
        assert response.status_code == 422, (method, path, response.text)
    assert (order(queue := ok(await client.get("/api/queue"))), queue["current"]) == ([a, f, g, c], 1)

    saved = ok(await client.post("/api/queue/save", json={"name": "From the queue"}), 201)
    assert saved["name"] == "From the queue" and order(saved) == [a, f, g, c] and saved["track_count"] == 4
    assert order(ok(await client.get(f"/api/playlists/{saved['id']}"))) == [a, f, g, c]
    assert (await client.post("/api/queue/save", json={"name": ""})).status_code == 422

    assert ok(await client.delete("/api/queue")) == {"tracks": [], "current": None}
    assert ok(await client.get("/api/queue")) == {"tracks": [], "current": None}
    assert order(ok(await client.get(f"/api/playlists/{saved['id']}"))) == [a, f, g, c]  # a copy
    started = ok(await client.post("/api/queue/tracks", json={"track_ids": [b, c]}))
    assert (order(started), started["current"]) == ([b, c], 0)
    replaced = ok(await client.put("/api/queue", json={"track_ids": [d, d, e]}))
    assert (order(replaced), replaced["current"]) == ([d, d, e], 0)


async def test_queue_survives_a_new_client_and_is_per_user(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    async with client_for(app, tokens["admin"]) as admin:
        a, b, c, d = await track_ids(admin, 4)
        ok(await admin.put("/api/queue", json={"track_ids": [c, a, b], "current": 2}))
    async with client_for(app, tokens["admin"]) as reloaded:  # a page reload
        queue = ok(await reloaded.get("/api/queue"))
        assert order(queue) == [c, a, b] and queue["current"] == 2

    async with client_for(app, tokens["reader"]) as reader:
        assert ok(await reader.get("/api/queue")) == {"tracks": [], "current": None}
        ok(await reader.put("/api/queue", json={"track_ids": [d]}))
        ok(await reader.post("/api/queue/tracks", json={"track_ids": [a], "position": 0}))
        mine = ok(await reader.get("/api/queue"))
        assert order(mine) == [a, d] and mine["current"] == 1
        saved = ok(await reader.post("/api/queue/save", json={"name": "Rex's queue"}), 201)
        ok(await reader.delete("/api/queue"))

    async with client_for(app, tokens["admin"]) as admin:
        queue = ok(await admin.get("/api/queue"))
        assert order(queue) == [c, a, b] and queue["current"] == 2
        assert (await admin.get(f"/api/playlists/{saved['id']}")).status_code == 404
        assert (ok(await admin.get("/api/playlists")))["items"] == []


async def test_unknown_missing_and_too_many_track_ids(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    async with client_for(app, tokens["admin"]) as client:
        a, b, gone = await track_ids(client, 3)
        async with app.state.runtime.db.engine.begin() as conn:  # its file disappeared
            await conn.execute(update(Track).where(Track.id == gone).values(missing=True))
        pid = (ok(await client.post("/api/playlists", json={"name": "Mix", "track_ids": [a]}), 201))["id"]
        ok(await client.put("/api/queue", json={"track_ids": [a]}))

        writes = [("POST", "/api/playlists", {"name": "New"}), ("POST", f"/api/playlists/{pid}/tracks", {}),
                  ("PUT", "/api/queue", {}), ("POST", "/api/queue/tracks", {})]
        for method, path, body in writes:
            unknown = await client.request(method, path, json={**body, "track_ids": [b, 999999, gone, 999998, 999999]})
            assert unknown.status_code == 422, (method, path, unknown.text)
            assert unknown.json()["error"]["message"] == f"unknown or missing track ids: 999999, {gone}, 999998"
            too_many = await client.request(method, path, json={**body, "track_ids": [a] * 501})
            assert too_many.status_code == 413, (method, path, too_many.text)
            assert "at most 500 track ids" in too_many.json()["error"]["message"]
            not_ids = await client.request(method, path, json={**body, "track_ids": ["1", True, 2**40]})
            assert not_ids.status_code == 422
            assert [d["where"] for d in not_ids.json()["error"]["details"]] == [
                "body.track_ids.0", "body.track_ids.1", "body.track_ids.2"]

        assert order(ok(await client.get(f"/api/playlists/{pid}"))) == [a]
        assert order(ok(await client.get("/api/queue"))) == [a]
        assert (ok(await client.get("/api/playlists")))["total"] == 1
        assert (await client.get(f"/api/playlists/{2**40}")).status_code == 422
        full = ok(await client.post(f"/api/playlists/{pid}/tracks", json={"track_ids": [b] * 500}))
        assert full["track_count"] == 501 and order(full) == [a] + [b] * 500


async def test_positions_stay_dense_when_a_track_is_deleted(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    async with client_for(app, tokens["admin"]) as client:
        a, b, c, d = await track_ids(client, 4)
        pid = (ok(await client.post("/api/playlists", json={"name": "Mix", "track_ids": [a, b, c, d]}),
                        201))["id"]
        ok(await client.put("/api/queue", json={"track_ids": [a, b, c, d], "current": 3}))
        async with app.state.runtime.db.engine.begin() as conn:  # the database cascades to both lists
            await conn.execute(delete(Track).where(Track.id == b))
        playlist = ok(await client.get(f"/api/playlists/{pid}"))
        assert order(playlist) == [a, c, d] and playlist["track_count"] == 3
        assert order(ok(await client.delete(f"/api/playlists/{pid}/tracks/2"))) == [a, c]
        queue = ok(await client.get("/api/queue"))
        assert (order(queue), queue["current"]) == ([a, c, d], 2)  # the stored index, clamped
        moved = ok(await client.post("/api/queue/move", json={"from_position": 2, "to_position": 0}))
        assert (order(moved), moved["current"]) == ([d, a, c], 0)


async def test_concurrent_edits_of_one_list_take_turns(api):
    client, _, _ = api
    ids = await track_ids(client, 20)
    pid = ok(await client.post("/api/playlists", json={"name": "Busy"}), 201)["id"]
    added = await asyncio.gather(*[client.post(f"/api/playlists/{pid}/tracks", json={"track_ids": [i]})
                                   for i in ids])
    queued = await asyncio.gather(*[client.post("/api/queue/tracks", json={"track_ids": [i]}) for i in ids])
    assert {r.status_code for r in added + queued} == {200}
    assert sorted(order(ok(await client.get(f"/api/playlists/{pid}")))) == sorted(ids)  # none lost
    assert sorted(order(ok(await client.get("/api/queue")))) == sorted(ids)
