"""Answers kept until the library changes (``api/answers.py``): a write made anywhere, by this process or by
another connection (a scan, a worker, the command line), is seen by the very next request."""
from __future__ import annotations

import time

from sqlalchemy import delete, insert, select, update

from soniquebay_core import auth
from soniquebay_core.db import Database
from soniquebay_core.models import ApiToken, Genre, Track


async def other_process(app):
    """A database handle of its own, as another process would have."""
    return await Database.open(app.state.runtime.settings.effective_database_url)


async def test_a_write_elsewhere_is_seen_by_the_next_list_search_and_suggest(app_and_tokens, api):
    app, _, _, _ = app_and_tokens
    client, _, _ = api
    asks = {"list": ("/api/tracks", {"q": "zyxwvu", "sort": "title"}),
            "search": ("/api/search", {"q": "zyxwvu"}),
            "suggest": ("/api/search/suggest", {"q": "zyxw"})}

    async def answers() -> dict:
        return {name: (await client.get(path, params=params)).json() for name, (path, params) in asks.items()}

    for _ in range(2):  # asked twice: the second answers are the kept ones
        before = await answers()
    assert before["list"]["total"] == 0 and before["search"]["total"] == 0 and before["suggest"]["tracks"] == []

    other = await other_process(app)
    try:
        async with other.engine.begin() as conn:
            track_id = (await conn.execute(select(Track.id).order_by(Track.id).limit(1))).scalar_one()
            await conn.execute(update(Track).where(Track.id == track_id).values(
                title="Zyxwvu", title_key="zyxwvu", search_text="zyxwvu"))
        after = await answers()
        assert [t["id"] for t in after["list"]["items"]] == [track_id] and after["list"]["total"] == 1
        assert [t["id"] for t in after["search"]["items"]] == [track_id] and after["search"]["total"] == 1
        assert [t["id"] for t in after["suggest"]["tracks"]] == [track_id]

        async with other.engine.begin() as conn:
            await conn.execute(update(Track).where(Track.id == track_id).values(missing=True))
        gone = await answers()
        assert gone["list"]["total"] == 0 and gone["list"]["items"] == []
        assert gone["search"]["total"] == 0
    finally:
        await other.close()


async def test_a_token_revoked_elsewhere_is_refused_at_once(app_and_tokens, api):
    app, _, _, _ = app_and_tokens
    client, _, _ = api
    async with app.state.runtime.db.engine.begin() as conn:
        user = (await conn.execute(select(ApiToken.user_id).limit(1))).scalar_one()
        token = await auth.issue_token(conn, user, "script")
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(3):  # the first use records last_used_at; then the owner is kept
        assert (await client.get("/api/tracks", params={"limit": 1}, headers=headers)).status_code == 200

    other = await other_process(app)
    try:
        async with other.engine.begin() as conn:  # what `soniquebay token revoke` does, from its own process
            await conn.execute(delete(ApiToken).where(ApiToken.name == "script"))
    finally:
        await other.close()
    assert (await client.get("/api/tracks", params={"limit": 1}, headers=headers)).status_code == 401
    assert (await client.get("/api/tracks", params={"limit": 1})).status_code == 200  # the others still work


async def _last_used(app, name: str):
    async with app.state.runtime.db.engine.connect() as conn:
        return (await conn.execute(select(ApiToken.last_used_at).where(ApiToken.name == name))).scalar_one()


async def test_a_tokens_use_is_recorded_without_dropping_what_is_kept(app_and_tokens, api):
    """``last_used_at`` is written on a token's first use; on SQLite without moving the marker (kept answers and
    track columns stay). While another connection holds the write lock it is not waited for: a later use
    records it."""
    app, _, _, _ = app_and_tokens
    client, _, _ = api
    sqlite = app.state.runtime.db.dialect == "sqlite"
    async with app.state.runtime.db.engine.begin() as conn:
        user = (await conn.execute(select(ApiToken.user_id).limit(1))).scalar_one()
        busy_token = await auth.issue_token(conn, user, "busy")
        token = await auth.issue_token(conn, user, "quiet")
    marker = await app.state.answers.generation()
    assert (await client.get("/api/tracks", params={"limit": 1},
                             headers={"Authorization": f"Bearer {token}"})).status_code == 200
    assert await _last_used(app, "quiet") is not None
    assert (await app.state.answers.generation() == marker) == sqlite

    other = await other_process(app)
    try:
        async with other.engine.connect() as conn:
            await conn.execute(update(Track).values(title=Track.title))  # holds the write lock until rolled back
            started = time.monotonic()
            assert (await client.get("/api/tracks", params={"limit": 1},
                                     headers={"Authorization": f"Bearer {busy_token}"})).status_code == 200
            assert time.monotonic() - started < 5  # not the busy timeout's wait
            await conn.rollback()
    finally:
        await other.close()
    assert (await _last_used(app, "busy") is None) == sqlite
    assert (await client.get("/api/tracks", params={"limit": 1},
                             headers={"Authorization": f"Bearer {busy_token}"})).status_code == 200
    assert await _last_used(app, "busy") is not None


async def test_a_callers_parallel_requests_look_it_up_once(app_and_tokens, api, monkeypatch):
    """Under a new marker, a client's parallel requests ask the database who the token is once (each lookup
    took a pooled connection, and each connection a thread and a page cache, kept)."""
    import asyncio

    from soniquebay_core.api import security

    app, tokens, _, _ = app_and_tokens
    client, _, _ = api
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    assert (await client.get("/api/tracks", params={"limit": 1}, headers=headers)).status_code == 200  # recorded
    looked_up = []
    principal_for = security.principal_for

    async def counted(conn, token, touch):
        looked_up.append(token)
        await asyncio.sleep(0.05)  # the others arrive meanwhile
        return await principal_for(conn, token, touch=touch)

    monkeypatch.setattr(security, "principal_for", counted)
    marker = await app.state.answers.generation()
    async with app.state.runtime.db.engine.begin() as conn:  # a new marker: nothing kept
        await conn.execute(insert(Genre).values(name="Marker", name_key="marker"))
    assert await app.state.answers.generation() != marker
    answers = await asyncio.gather(*(client.get("/api/tracks", params={"limit": 1, "offset": i}, headers=headers)
                                     for i in range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert looked_up == [tokens["admin"]]


async def test_a_kept_request_still_needs_a_known_caller(app_and_tokens, api):
    """A request answered before is answered again before routing (``KeptResponses``) only for a caller the
    route would accept: without a token, with an unknown one, or with a token gone, it is refused as before."""
    import httpx

    app, tokens, _, _ = app_and_tokens
    client, _, _ = api
    asks = [("/api/tracks", {"genre": "rock", "sort": "-year", "limit": 3}), ("/api/search", {"q": "the"}),
            ("/api/search/suggest", {"q": "th"})]
    for path, params in asks:
        first = await client.get(path, params=params)
        again = await client.get(path, params=params, headers={"X-Request-ID": "kept-1"})
        assert first.status_code == again.status_code == 200
        assert again.content == first.content and again.headers["content-type"] == "application/json"
        assert again.headers["x-request-id"] == "kept-1"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as anonymous:
        for path, params in asks:
            assert (await anonymous.get(path, params=params)).status_code == 401
            assert (await anonymous.get(path, params=params,
                                        headers={"Authorization": "Bearer not-a-token"})).status_code == 401
            reader = await anonymous.get(path, params=params, headers={"Authorization": f"Bearer {tokens['reader']}"})
            assert reader.status_code == 200 and reader.json() == (await client.get(path, params=params)).json()
    metrics = (await client.get("/metrics")).text
    assert 'route="/api/search/suggest",status="200"} ' in metrics  # kept answers are counted under their route


async def test_an_answer_asked_by_many_at_once_is_computed_once(app_and_tokens, api, monkeypatch):
    import asyncio

    from soniquebay_core.api import search

    client, _, _ = api
    computed = []
    real = search._suggestions

    async def counted(conn, q, limit):
        computed.append(q)
        await asyncio.sleep(0.05)  # still computing when the others ask
        return await real(conn, q, limit)

    monkeypatch.setattr(search, "_suggestions", counted)
    await client.get("/api/tracks", params={"limit": 1})  # the token's use recorded: the next asks are reads only
    answers = await asyncio.gather(*(client.get("/api/search/suggest", params={"q": "zq"}) for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5 and len({a.content for a in answers}) == 1
    assert computed == ["zq"]
