"""Track pages: however the database is told to read them, a page is the same slice of the sorted list."""
from __future__ import annotations

import random
from collections import Counter

from sqlalchemy import select, update

from soniquebay_core.api import library, search
from soniquebay_core.api.answers import dumps
from soniquebay_core.library import columns as columns_module
from soniquebay_core.library import query as track_query
from soniquebay_core.library.columns import TrackColumns
from soniquebay_core.models import Genre, Track

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


async def _varied(app) -> list[str]:
    """BPM and key on most tracks (NULL on the rest), a few tracks missing; the library's genre names."""
    rng = random.Random(3)
    async with app.state.runtime.db.engine.begin() as conn:
        ids = (await conn.execute(select(Track.id))).scalars().all()
        for track_id in ids:
            await conn.execute(update(Track).where(Track.id == track_id).values(
                bpm=rng.choice((None, round(rng.uniform(60, 180), 2), 120.0)),
                key=rng.choice((None, "A minor", "C major", "F# minor")), missing=rng.random() < 0.05))
        return list((await conn.execute(select(Genre.name))).scalars())


async def test_pages_read_from_the_columns_are_the_pages_sql_reads(app_and_tokens):
    app, _, _, _ = app_and_tokens
    genres = await _varied(app)
    rng = random.Random(5)
    sorts = [direction + name for name in track_query.SORTS for direction in ("", "-")]
    async with app.state.runtime.db.engine.connect() as conn:
        columns = await TrackColumns.read(conn)
        for sort in sorts:  # numbers' and ids' orders sorted in memory, the others read
            held = columns.ordered_by(sort)
            assert held == (sort.lstrip("-") in ("added", "year", "bpm"))
            assert held or await columns.read_order(conn, sort)
        for _ in range(300):
            filters = rng.sample([
                {"genre": rng.choice(genres + ["o", "nothing-like-it"])[:rng.randint(1, 6)]},
                {"year_min": rng.choice((None, rng.randint(1960, 2025))), "year_max": rng.randint(1970, 2030)},
                {"bpm_min": rng.choice((None, rng.uniform(60, 150))), "bpm_max": rng.choice((None, 120.0, 200.0))},
                {"key": rng.choice(("A minor", "C major", "B major"))},
                {"format": rng.choice(("mp3", "FLAC", "ogg", "wav"))}], rng.randint(0, 3))
            query = library.track_filters(**{name: value for part in filters for name, value in part.items()})
            sort, limit, offset = rng.choice(sorts), rng.choice((1, 7, 50)), rng.choice((0, 0, 5, 40))
            assert TrackColumns.answers(query, sort)
            assert await columns.page(app.state.runtime.db.engine.connect, query, sort, limit, offset) == \
                tuple(await library._page_ids(conn, query, sort, limit, offset, None, None)), (query, sort)


async def test_a_search_filtered_by_the_columns_is_the_search_sql_filters(app_and_tokens):
    """A search's ranked tracks kept to the filters by the columns, and sent from their JSON: byte for byte the
    answer SQL gives, missing tracks among the ranked ones included."""
    app, _, _, _ = app_and_tokens
    genres = await _varied(app)
    rng = random.Random(7)
    engine = app.state.runtime.db.engine
    async with engine.connect() as conn:
        columns = await TrackColumns.read(conn)
        assert await columns.read_documents(conn, dumps)
        every = (await conn.execute(select(Track.id))).scalars().all()
    assert len(every) > len(columns.ids)  # some are missing
    for _ in range(100):
        ranked = {t: (rng.choice((None, 1990)), "a", "mp3", None, ()) for t in rng.sample(every, len(every))}
        filters = rng.sample([{"genre": rng.choice(genres + ["nothing-like-it"])[:rng.randint(1, 6)]},
                              {"year_min": rng.randint(1960, 2025)}, {"bpm_max": rng.choice((100.0, 150.0))},
                              {"key": rng.choice(("A minor", "B major"))}, {"format": rng.choice(("mp3", "FLAC"))}],
                             rng.randint(1, 2))
        terms = library.track_filters(**{name: value for part in filters for name, value in part.items()}).terms
        limit, offset = rng.choice((1, 7, 50)), rng.choice((0, 3))
        assert TrackColumns.filters(terms)
        assert await search._search(engine.connect, columns, "q", ranked, terms, limit, offset) == \
            await search._search(engine.connect, None, "q", ranked, terms, limit, offset), terms


async def test_the_tracks_json_held_in_memory_is_what_sql_gives(app_and_tokens):
    """Pages send the tracks' JSON the columns hold: byte for byte what the tracks read by SQL are sent as."""
    app, _, _, _ = app_and_tokens
    await _varied(app)
    async with app.state.runtime.db.engine.connect() as conn:
        columns = await TrackColumns.read(conn)
        assert not columns.described and columns.documents([int(columns.ids[0])]) is None
        assert await columns.read_documents(conn, dumps)
        ids = columns.ids.tolist()
        rng = random.Random(2)
        by_sql = {t["id"]: dumps(t) for t in await track_query.tracks_by_id(conn, ids)}
        for chosen in ([ids[0]], ids, rng.sample(ids, min(len(ids), 9)), ids[::-1]):
            assert columns.documents(chosen) == [by_sql[i] for i in chosen]
        missing = (await conn.execute(select(Track.id).where(Track.missing.is_(True)))).scalars().first()
        assert missing is not None and columns.documents([ids[0], missing]) is None  # not held: asked of SQL
        async with app.state.runtime.db.engine.begin() as writer:  # tracks changed since: not read
            await writer.execute(update(Track).where(Track.id == ids[0]).values(missing=True))
        assert not await columns.read_documents(conn, dumps)
        assert not await columns.read_documents(conn, dumps, wanted=lambda: False)


async def test_track_lists_are_answered_from_columns_of_the_current_library_only(app_and_tokens, api, monkeypatch):
    app, _, _, _ = app_and_tokens
    client, _, _ = api
    monkeypatch.setattr(columns_module, "SETTLE_S", 0.0)
    kept = app.state.track_columns
    params = {"sort": "-year", "year_min": 1, "limit": 5}  # NULL years: first on PostgreSQL, last on SQLite

    async def listed() -> list[dict]:
        items = (await client.get("/api/tracks", params=params)).json()["items"]
        if kept._reading is not None:
            assert not kept.ready  # /metrics' gauge: not while anything is being read
            await kept._reading
        return items

    first = await listed()  # asked: the columns are read (SETTLE_S is 0 here)
    assert kept._columns is not None and kept._columns.ordered_by("-year") and kept.ready
    assert await listed() == first
    async with app.state.runtime.db.engine.begin() as conn:  # a write: the next page is SQL's, then new columns'
        await conn.execute(update(Track).where(Track.id == first[-1]["id"]).values(year=3000))
    moved = await listed()
    assert moved[0]["id"] == first[-1]["id"] and moved[0]["year"] == 3000
    assert kept._columns is not None and kept._columns.ordered_by("-year")  # read after the write
    params["offset"] = 1  # another page (not a kept answer): from those columns
    async with app.state.runtime.db.engine.connect() as conn:
        by_sql, _ = await library._page_ids(conn, library.track_filters(year_min=1), "-year", 5, 1, None, None)
    assert [t["id"] for t in await listed()] == by_sql and by_sql[:4] == [t["id"] for t in moved[1:]]
