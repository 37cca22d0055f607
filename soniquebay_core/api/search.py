"""Search: ranked, accent-insensitive, prefix-aware, with facets and the tracks' filters.

``GET /api/search?q=…`` ranks tracks by full-text relevance (``search.py``);
when the library has track vectors and a plugin answers ``embed_text``, the
nearest tracks by meaning (the vector half, ``vectors/api.py``) are fused in
(reciprocal-rank fusion). Filters narrow the ranked set and facets count what is left.
``GET /api/search/suggest?q=…`` is the typeahead: a few artists, albums and
tracks whose words start with what was typed.
"""
from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import case, func, select

from .. import search
from ..library import query as track_query
from ..models import Album, Artist, Genre, Track, TrackEmbedding, TrackGenre
from ..text import fold
from ..vectors.api import semantic_ranking, vector_service
from .answers import dumps
from .deps import GenerationDep, RuntimeDep
from .library import track_filters

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
    body = answers.get(generation, ("search", q, tuple(terms), limit, offset))
    if body is None:
        async with runtime.db.engine.connect() as conn:
            ranking = answers.get(generation, ("ranking", q))
            if ranking is None:
                ranking = answers.put(generation, ("ranking", q), await _ranking(conn, vector_service(request), q),
                                      8 * CANDIDATES)
            body = dumps(await _search(conn, q, ranking, terms, limit, offset))
        answers.put(generation, ("search", q, tuple(terms), limit, offset), body, len(body))
    return Response(body, media_type="application/json")


async def _search(conn, q: str, ranking: list[int], terms: list[tuple[str, str]], limit: int, offset: int) -> dict:
    matched = track_query.statement(track_query.Query(terms=terms)).where(Track.id.in_(ranking))
    # the matched tracks with the columns their facets count: one read
    matched_rows = (await conn.execute(matched.with_only_columns(Track.id, Track.year, Track.artist, Track.format,
                                                                 Track.key))).all()
    matched_ids = {row.id for row in matched_rows}
    ordered = [t for t in ranking if t in matched_ids]
    page = ordered[offset:offset + limit]
    by_id = {t["id"]: t for t in await track_query.tracks_by_id(conn, page)}
    return {"query": q, "total": len(ordered), "limit": limit, "offset": offset,
            "items": [by_id[t] for t in page if t in by_id],
            "facets": await _facets(conn, matched_rows) if matched_rows else {}}


async def _facets(conn, tracks) -> dict[str, list[dict]]:
    """The most frequent values among the matched tracks (rows of id, year, artist, format, key): their own
    columns counted here, genres in one query."""
    def top(counts: Counter) -> list[dict]:
        return [{"value": value, "count": n}
                for value, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:FACET_SIZE]]

    genres = Counter(dict((await conn.execute(
        select(Genre.name, func.count(func.distinct(TrackGenre.track_id))).join(Genre, Genre.id == TrackGenre.genre_id)
        .where(TrackGenre.track_id.in_([t.id for t in tracks])).group_by(Genre.name))).all()))
    own: dict[str, Counter] = {"decade": Counter(), "artist": Counter(), "format": Counter(), "key": Counter()}
    for _, year, artist, format_, key in tracks:
        for name, value in (("decade", None if year is None else year - year % 10), ("artist", artist),
                            ("format", format_), ("key", key)):
            if value is not None:
                own[name][value] += 1
    return {"genre": top(genres), **{name: top(counts) for name, counts in own.items()}}


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
    body = answers.get(generation, ("suggest", q, limit))
    if body is None:
        async with runtime.db.engine.connect() as conn:
            body = dumps(await _suggestions(conn, q, limit))
        answers.put(generation, ("suggest", q, limit), body, len(body))
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
