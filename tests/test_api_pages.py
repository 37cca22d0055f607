"""Track pages: however the database is told to read them, a page is the same slice of the sorted list."""
from __future__ import annotations

from collections import Counter

from soniquebay_core.api import library

SORTS = ("added", "title", "artist", "year", "-year", "bpm", "-bpm")


async def test_a_page_is_the_same_slice_of_the_list_however_it_is_read(app_and_tokens, api, monkeypatch):
    app, _, _, _ = app_and_tokens
    client, _, _ = api
    walked = []
    decide = library._walks_sort

    async def recorded(*args):
        walked.append(await decide(*args))
        return walked[-1]

    monkeypatch.setattr(library, "_walks_sort", recorded)
    everything = (await client.get("/api/tracks", params={"limit": 500})).json()["items"]
    common = Counter(t["format"] for t in everything).most_common(1)[0][0]
    for filters in ({}, {"format": common}):
        for sort in SORTS:
            whole = (await client.get("/api/tracks", params={**filters, "sort": sort, "limit": 500})).json()
            pages = [(await client.get("/api/tracks", params={**filters, "sort": sort, "limit": 7,
                                                               "offset": offset})).json() for offset in (0, 7, 14)]
            assert [t["id"] for page in pages for t in page["items"]] == [t["id"] for t in whole["items"][:21]]
            assert {page["total"] for page in pages} == {whole["total"]}
    # broad filters, small pages: SQLite reads in the sort's order; PostgreSQL's planner chooses alone
    assert any(walked) == (app.state.runtime.db.dialect == "sqlite")
