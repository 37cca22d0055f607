"""Answers kept until the library changes (``api/answers.py``): a write made anywhere, by this process or by
another connection (a scan, a worker, the command line), is seen by the very next request."""
from __future__ import annotations

from sqlalchemy import delete, select, update

from soniquebay_core import auth
from soniquebay_core.db import Database
from soniquebay_core.models import ApiToken, Track


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
