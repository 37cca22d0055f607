"""Search: ranked, accent-insensitive, prefix-aware, with facets and the tracks' filters.

``GET /api/search?q=…`` ranks tracks by full-text relevance (``search.py``);
when the library has track vectors and a plugin answers ``embed_text``, the
nearest tracks by meaning (the vector half, ``vectors/api.py``) are fused in
(reciprocal-rank fusion). Filters narrow the ranked set and facets count what is left.
``GET /api/search/suggest?q=…`` is the typeahead: a few artists, albums and
tracks whose words start with what was typed.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import ARRAY, Integer, bindparam, case, func, literal_column, select

from .. import search
from ..library import query as track_query
from ..library.columns import TrackColumns
from ..models import Album, Artist, Genre, Track, TrackEmbedding, TrackGenre
from ..text import fold
from ..vectors.api import semantic_ranking, vector_service
from .answers import dumps, dumps_with_items
from .deps import GenerationDep, RuntimeDep
from .library import described, track_filters

router = APIRouter(prefix="/api/search", tags=["search"])

CANDIDATES = 1000  # ranked ids considered before filters and paging
MEANING_CANDIDATES = 100  # of which found by meaning (the vector half), at most
FACET_SIZE = 10


async def _ranking(conn, vectors, q: str) -> list[int]:
    """Full-text ranking, fused with the tracks nearest by meaning when ``vectors`` is given."""
    ranked = search.ranked_ids(conn.dialect.name, q)
    if ranked is None:
        return []
    ranked = ranked.subquery()
    full_text = (await conn.execute(select(ranked.c.id).order_by(ranked.c.rank, ranked.c.id)
                                    .limit(CANDIDATES))).scalars().all()
    # without any track vector there is no meaning half: do not embed the text (that loads a model); asked on
    # this request's connection (the vector service would take a second one from the pool, under a lock)
    has_vectors = vectors is not None and await conn.scalar(select(TrackEmbedding.track_id).limit(1)) is not None
    meaning = [t for t, _ in await semantic_ranking(conn, vectors, q, MEANING_CANDIDATES)] if has_vectors else []
    return search.fuse(list(full_text), meaning) if meaning else list(full_text)


def _among(conn, column, ids: list[int]):
    """``column IN ids``, the ids sent as one parameter: a thousand bound values cost more to build than the
    lookups cost to run."""
    if conn.dialect.name == "sqlite":
        listed = select(literal_column("value")).select_from(func.json_each(json.dumps(ids)))
    else:
        listed = select(func.unnest(bindparam(None, ids, type_=ARRAY(Integer))))
    return column.in_(listed)


async def _ranked(conn, vectors, q: str) -> dict[int, tuple]:
    """The ranked tracks that are not missing, best first, with what their facets count: id → (year, artist,
    format, key, genres). Kept per text: filters then only say which of them match."""
    ranking = await _ranking(conn, vectors, q)
    rows = {row.id: row for row in await conn.execute(
        track_query.statement(track_query.Query()).with_only_columns(Track.id, Track.year, Track.artist,
                                                                     Track.format, Track.key)
        .where(_among(conn, Track.id, ranking)))}
    genres: dict[int, set[str]] = {}
    for track_id, name in await conn.execute(select(TrackGenre.track_id, Genre.name).join(
            Genre, Genre.id == TrackGenre.genre_id).where(_among(conn, TrackGenre.track_id, list(rows)))):
        genres.setdefault(track_id, set()).add(name)
    # kept for every text searched: each value held once (years, artists, formats, keys and genre sets repeat
    # from track to track), 640 -> ~200 bytes a track
    shared: dict = {}

    def one(value):
        return shared.setdefault(value, value)

    return {t: (one(rows[t][1]), one(rows[t][2]), one(rows[t][3]), one(rows[t][4]),
                one(tuple(sorted(genres.get(t, ()))))) for t in ranking if t in rows}


@router.get("", response_model=dict)  # sent pre-serialized: the model documents it
async def search_library(request: Request, runtime: RuntimeDep, generation: GenerationDep,
                         q: Annotated[str, Query(min_length=1, max_length=200)],
                         artist: str | None = None, album: str | None = None, genre: str | None = None,
                         key: str | None = None, format: str | None = None, year_min: int | None = None,
                         year_max: int | None = None, bpm_min: float | None = None, bpm_max: float | None = None,
                         feature: Annotated[list[str] | None, Query(description="name=value or name=low..high")] = None,
                         limit: Annotated[int, Query(ge=1, le=200)] = 50,
                         offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    terms = track_filters(artist=artist, album=album, genre=genre, key=key, format=format, year_min=year_min,
                          year_max=year_max, bpm_min=bpm_min, bpm_max=bpm_max, feature=feature).terms
    answers = request.app.state.answers

    async def rank() -> tuple[dict, int]:
        async with answers.connect() as conn:
            ranked = await _ranked(conn, vector_service(request), q)
        return ranked, 250 * len(ranked)

    async def compute() -> tuple[bytes, int]:
        ranked = await answers.once(generation, ("ranked", q), rank)
        body = await _search(answers.connect, request.app.state.track_columns.current(generation), q, ranked,
                             terms, limit, offset)
        return body, len(body)

    key = ("search", q, tuple(terms), limit, offset)
    body = await answers.once(generation, key, compute)
    answers.remember_request(generation, request.scope, key)
    return Response(body, media_type="application/json")


async def _search(connect, columns: TrackColumns | None, q: str, ranked: dict[int, tuple],
                  terms: list[tuple[str, str]], limit: int, offset: int) -> bytes:
    """The page of ranked tracks matching the terms, with the facets of all that match; held ``columns`` (read
    under the ranking's generation) filter and describe them without a statement, when they can."""
    ordered = list(ranked)
    if terms and columns is not None and TrackColumns.filters(terms):
        ordered = await columns.among(connect, terms, ordered)
    elif terms:
        async with connect() as conn:
            matched = set((await conn.execute(track_query.matching(track_query.Query(terms=terms), "added",
                                                                   Track.id, few=True)
                                              .where(_among(conn, Track.id, ordered)))).scalars())
        ordered = [t for t in ordered if t in matched]
    page = ordered[offset:offset + limit]
    items = await described(connect, page, columns)
    return dumps_with_items(items, {"query": q, "total": len(ordered), "limit": limit, "offset": offset,
                                    "facets": _facets([ranked[t] for t in ordered])})


def _facets(tracks: list[tuple]) -> dict[str, list[dict]]:
    """The most frequent values among the matched tracks (year, artist, format, key, genres); none without
    tracks."""
    if not tracks:
        return {}
    counts: dict[str, Counter] = {"genre": Counter(), "decade": Counter(), "artist": Counter(),
                                  "format": Counter(), "key": Counter()}
    for year, artist, format_, key, genres in tracks:
        counts["genre"].update(genres)
        for name, value in (("decade", None if year is None else year - year % 10), ("artist", artist),
                            ("format", format_), ("key", key)):
            if value is not None:
                counts[name][value] += 1
    return {name: [{"value": value, "count": n} for value, n in
                   sorted(values.items(), key=lambda item: (-item[1], item[0]))[:FACET_SIZE]]
            for name, values in counts.items()}


async def _typed_tracks(conn, q: str, limit: int) -> list[int]:
    """The typeahead's tracks: full-text matches (typed prefixes carry no meaning yet), best first; while the
    last word has fewer than three characters it matches much of the library, and ranking every match would
    cost tens of ms at 100,000 tracks: then the first matches."""
    ranked = search.ranked_ids(conn.dialect.name, q)
    if ranked is None:
        return []
    ranked = ranked.subquery()
    order = (ranked.c.id,) if len(search.words_of(q)[-1]) < 3 else (ranked.c.rank, ranked.c.id)
    return list((await conn.execute(select(ranked.c.id).order_by(*order).limit(limit))).scalars().all())


@router.get("/suggest", response_model=dict)
async def suggest(request: Request, runtime: RuntimeDep, generation: GenerationDep,
                  q: Annotated[str, Query(min_length=1, max_length=100)],
                  limit: Annotated[int, Query(ge=1, le=20)] = 5) -> Response:
    answers = request.app.state.answers

    async def compute() -> tuple[bytes, int]:
        async with answers.connect() as conn:
            body = dumps(await _suggestions(conn, q, limit))
        return body, len(body)

    key = ("suggest", q, limit)
    body = await answers.once(generation, key, compute)
    answers.remember_request(generation, request.scope, key)
    return Response(body, media_type="application/json")


async def _suggestions(conn, q: str, limit: int) -> dict:
    folded = fold(q)
    starts = folded + "%"
    words = f"% {folded}%"

    def best(column):  # names starting with the text first, then names with a word starting with it
        return case((column.like(starts), 0), else_=1)

    artists = await conn.execute(select(Artist.id, Artist.name).where(
        Artist.name_key.like(starts) | Artist.name_key.like(words)).order_by(best(Artist.name_key),
                                                                             func.length(Artist.name), Artist.id)
        .limit(limit))
    albums = await conn.execute(select(Album.id, Album.title, Album.albumartist, Album.year, Album.cover_id).where(
        Album.title_key.like(starts) | Album.title_key.like(words)).order_by(best(Album.title_key),
                                                                             func.length(Album.title), Album.id)
        .limit(limit))
    ranking = await _typed_tracks(conn, q, limit)
    tracks = {row.id: dict(row._mapping) for row in await conn.execute(
        select(Track.id, Track.title, Track.artist, Album.title.label("album"), Track.album_id, Track.duration)
        .outerjoin(Album, Album.id == Track.album_id).where(Track.id.in_(ranking)))}
    return {"query": q, "artists": [dict(r._mapping) for r in artists], "albums": [dict(r._mapping) for r in albums],
            "tracks": [tracks[t] for t in ranking if t in tracks]}
