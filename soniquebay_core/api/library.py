"""Tracks, albums and artists: paginated lists with filters and sorting, and details.

Track filters are the command line's query terms (``library/query.py``), so
``?artist=björk&year_min=1995`` means what ``ls artist:björk year:1995..`` means.
"""
from __future__ import annotations

import string
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler

from ..library import query as track_query
from ..library.columns import TrackColumns
from ..library.query import SORTS, order_by
from ..models import Album, AlbumArtist, Artist, Genre, Tag, Track, TrackArtist, TrackEmbedding, TrackGenre, TrackTag
from ..text import fold
from .answers import dumps, dumps_with_items
from .deps import ConnDep, DbId, GenerationDep, RuntimeDep
from .security import AdminDep

router = APIRouter(prefix="/api", tags=["library"])

Limit = Annotated[int, Query(ge=1, le=500, description="items per page")]
Offset = Annotated[int, Query(ge=0)]


class Page(BaseModel):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


def range_term(name: str, low: float | None, high: float | None) -> list[tuple[str, str]]:
    if low is None and high is None:
        return []
    def text(v):
        return "" if v is None else f"{v:g}"
    return [(name, f"{text(low)}..{text(high)}")]


def track_filters(q: str | None = None, artist: str | None = None, album: str | None = None,
                  albumartist: str | None = None, genre: str | None = None, key: str | None = None,
                  format: str | None = None, year_min: int | None = None, year_max: int | None = None,
                  bpm_min: float | None = None, bpm_max: float | None = None, feature: list[str] | None = None,
                  added_since: date | None = None, missing_stage: str | None = None) -> track_query.Query:
    """The track list's parameters as a query (what REST and GraphQL share)."""
    terms = [(name, value) for name, value in (("artist", artist), ("album", album), ("albumartist", albumartist),
                                               ("genre", genre), ("key", key), ("format", format),
                                               ("added", added_since and added_since.isoformat()),
                                               ("pending", missing_stage)) if value]
    terms += range_term("year", year_min, year_max) + range_term("bpm", bpm_min, bpm_max)
    terms += [("feature", value) for value in feature or []]
    return track_query.Query(words=(q or "").split(), terms=terms)


# SQLAlchemy renders a table hint only on dialects it knows to take one in FROM; SQLite's INDEXED BY does
SQLiteCompiler.get_from_hint_text = lambda self, table, text: text
# how SQLite can read the tracks already in a sort's order (migration 0003's indexes; "added": the table itself)
SORT_ORDERED = {"title": "INDEXED BY ix_tracks_missing_title_key", "artist": "INDEXED BY ix_tracks_missing_artist_key",
                "year": "INDEXED BY ix_tracks_missing_year", "bpm": "INDEXED BY ix_tracks_missing_bpm",
                "added": "NOT INDEXED"}


async def _walks_sort(conn, query: track_query.Query, sort: str, rows: int, total: int,
                      library: int | None = None) -> bool:
    """Whether SQLite should read the tracks in the sort's order and stop after the page's ``rows``.

    SQLite's planner reads the matches through a filter's index, then sorts them all: right for a few
    matches, slow for many (a genre sorted by title: 9.5 ms; MP3s by -year: 33 ms at 100,000 tracks). In
    sort order, about ``rows × library / total`` tracks are read instead of ``total`` (1-3 ms there). Not when
    a filter is on the sort's own column: its index already gives both.
    """
    name = sort.lstrip("-")
    if conn.dialect.name != "sqlite" or name not in SORT_ORDERED or any(term == name for term, _ in query.terms):
        return False
    if library is None:
        library = await conn.scalar(select(func.max(Track.id)))  # an upper bound, read from the table's last page
    return total * total >= rows * (library or 0)


async def counted(conn, query: track_query.Query) -> tuple[int, int]:
    """How many tracks match, and the library's largest track id (``_walks_sort``'s bound), in one statement."""
    return tuple((await conn.execute(track_query.matching(query, "added", func.count()).add_columns(
        select(func.max(Track.id)).correlate(None).scalar_subquery()))).one())


async def _page_ids(conn, query: track_query.Query, sort: str, limit: int, offset: int, total: int | None,
                    library: int | None) -> tuple[list[int], int]:
    """The page's ids by SQL, and the total (counted first: how many tracks match decides how SQLite reads the
    page, ``_walks_sort``)."""
    if total is None:
        total, library = await counted(conn, query)
    ids = track_query.statement(query).with_only_columns(Track.id)\
        .order_by(order_by(sort, SORTS), Track.id).limit(limit).offset(offset)
    if total and await _walks_sort(conn, query, sort, offset + limit, total, library):
        ids = ids.with_hint(Track, SORT_ORDERED[sort.lstrip("-")], "sqlite")
    return (await conn.execute(ids)).scalars().all(), total


async def track_page(conn, query: track_query.Query, sort: str = "added", limit: int = 50,
                     offset: int = 0) -> Page:
    """A page of matching tracks, by SQL."""
    ids, total = await _page_ids(conn, query, sort, limit, offset, None, None)
    by_id = {track["id"]: track for track in await track_query.tracks_by_id(conn, ids)}
    return Page.model_construct(items=[by_id[i] for i in ids], total=total, limit=limit, offset=offset)


async def described(connect, ids: list[int], columns: TrackColumns | None) -> list[bytes]:
    """These tracks' JSON, in their order: held by ``columns`` (when given and they hold it), else read on a
    connection from ``connect`` (an async context manager: ``Answers.connect``)."""
    held = columns.documents(ids) if columns is not None else None
    if held is not None:
        return held
    async with connect() as conn:
        by_id = {track["id"]: track for track in await track_query.tracks_by_id(conn, ids)}
    return [dumps(by_id[i]) for i in ids if i in by_id]


@router.get("/tracks", response_model=Page)
async def list_tracks(request: Request, runtime: RuntimeDep, generation: GenerationDep, q: str | None = None,
                      artist: str | None = None, album: str | None = None, albumartist: str | None = None,
                      genre: str | None = None, key: str | None = None, format: str | None = None,
                      year_min: int | None = None, year_max: int | None = None, bpm_min: float | None = None,
                      bpm_max: float | None = None,
                      feature: Annotated[list[str] | None, Query(description="name=value or name=low..high, "
                                                                 "e.g. energy=0.6..1, camelot=8A")] = None,
                      added_since: date | None = None, missing_stage: str | None = None, sort: str = "added",
                      limit: Limit = 50, offset: Offset = 0) -> Response:
    """Tracks matching every filter given; ``q`` is free words (title, artist, album);
    ``missing_stage=plugin.stage`` keeps tracks that stage has not done yet."""
    query = track_filters(q, artist, album, albumartist, genre, key, format, year_min, year_max, bpm_min, bpm_max,
                          feature, added_since, missing_stage)
    answers, kept = request.app.state.answers, request.app.state.track_columns
    matching = (tuple(query.words), tuple(query.terms))

    async def compute() -> tuple[bytes, int]:
        # held columns answer without a connection: none is taken (nor waited for behind slower answers)
        columns = kept.get(generation, sort) if TrackColumns.answers(query, sort) else None
        if columns is not None:
            ids, total = await columns.page(answers.connect, query, sort, limit, offset)
        else:
            async with answers.connect() as conn:
                known = answers.get(generation, ("count", matching))
                if known is None:
                    known = answers.put(generation, ("count", matching), await counted(conn, query))
                ids, total = await _page_ids(conn, query, sort, limit, offset, *known)
        items = await described(answers.connect, ids, kept.current(generation))
        body = dumps_with_items(items, {"total": total, "limit": limit, "offset": offset})
        return body, len(body)

    key = ("tracks", matching, sort, limit, offset)
    body = await answers.once(generation, key, compute)
    answers.remember_request(generation, request.scope, key)
    return Response(body, media_type="application/json")


@router.get("/tracks/{track_id}")
async def get_track(conn: ConnDep, track_id: DbId) -> dict:
    found = await track_query.tracks_by_id(conn, [track_id])
    if not found:
        raise HTTPException(404, f"no track {track_id}")
    return found[0]


ALBUM_SORTS = {"title": Album.title_key, "year": Album.year, "added": Album.id, "artist": Album.albumartist}


def _album_columns():
    counts = select(Track.album_id, func.count().label("tracks"), func.sum(Track.duration).label("duration"))\
        .where(Track.missing.is_(False)).group_by(Track.album_id).subquery()
    return counts, select(Album.id, Album.title, Album.albumartist, Album.year, Album.date, Album.compilation,
                          Album.disc_total, Album.mb_albumid, Album.cover_id, counts.c.tracks,
                          counts.c.duration).join(counts, counts.c.album_id == Album.id)


@router.get("/albums", response_model=Page)
async def list_albums(conn: ConnDep, q: str | None = None, artist: str | None = None, year_min: int | None = None,
                      year_max: int | None = None, sort: str = "title", limit: Limit = 50,
                      offset: Offset = 0) -> Page:
    _, query = _album_columns()
    if q:
        query = query.where(Album.title_key.contains(fold(q), autoescape=True))
    if artist:
        query = query.where(select(AlbumArtist.album_id).join(Artist, Artist.id == AlbumArtist.artist_id).where(
            AlbumArtist.album_id == Album.id, Artist.name_key.contains(fold(artist), autoescape=True)).exists())
    if year_min is not None:
        query = query.where(Album.year >= year_min)
    if year_max is not None:
        query = query.where(Album.year <= year_max)
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await conn.execute(query.order_by(order_by(sort, ALBUM_SORTS), Album.id).limit(limit).offset(offset))
    return Page(items=[dict(r._mapping) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/albums/{album_id}")
async def get_album(conn: ConnDep, album_id: DbId) -> dict:
    _, query = _album_columns()
    row = (await conn.execute(query.where(Album.id == album_id))).first()
    if row is None:
        raise HTTPException(404, f"no album {album_id}")
    ids = (await conn.execute(select(Track.id).where(Track.album_id == album_id, Track.missing.is_(False))
                              .order_by(Track.disc_number, Track.track_number, Track.title_key))).scalars().all()
    by_id = {t["id"]: t for t in await track_query.tracks_by_id(conn, list(ids))}
    return {**dict(row._mapping), "tracks": [by_id[i] for i in ids]}


ARTIST_SORTS = {"name": Artist.name_key, "added": Artist.id, "tracks": "tracks"}


def _artist_columns():
    counts = select(TrackArtist.artist_id, func.count(func.distinct(TrackArtist.track_id)).label("tracks"))\
        .group_by(TrackArtist.artist_id).subquery()
    tracks = func.coalesce(counts.c.tracks, 0).label("tracks")
    return tracks, select(Artist.id, Artist.name, Artist.sort_name, Artist.mbid, tracks)\
        .outerjoin(counts, counts.c.artist_id == Artist.id)


@router.get("/artists", response_model=Page)
async def list_artists(conn: ConnDep, q: str | None = None,
                       initial: Annotated[str | None, Query(pattern="^([A-Za-z]|#)$",
                                                            description="A–Z jump: names starting with "
                                                                        "this letter; # for the rest")] = None,
                       sort: str = "name", limit: Limit = 50, offset: Offset = 0) -> Page:
    tracks, query = _artist_columns()
    if q:
        query = query.where(Artist.name_key.contains(fold(q), autoescape=True))
    if initial == "#":
        query = query.where(~or_(*(Artist.name_key.like(f"{c}%") for c in string.ascii_lowercase)))
    elif initial:
        query = query.where(Artist.name_key.like(f"{initial.lower()}%"))
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    sorts = {**ARTIST_SORTS, "tracks": tracks}
    rows = await conn.execute(query.order_by(order_by(sort, sorts), Artist.id).limit(limit).offset(offset))
    return Page(items=[dict(r._mapping) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/artists/{artist_id}")
async def get_artist(conn: ConnDep, artist_id: DbId) -> dict:
    _, query = _artist_columns()
    row = (await conn.execute(query.where(Artist.id == artist_id))).first()
    if row is None:
        raise HTTPException(404, f"no artist {artist_id}")
    _, albums = _album_columns()
    albums = albums.where(select(AlbumArtist.album_id).where(AlbumArtist.album_id == Album.id,
                                                             AlbumArtist.artist_id == artist_id).exists())
    rows = await conn.execute(albums.order_by(Album.year, Album.title_key))
    return {**dict(row._mapping), "albums": [dict(r._mapping) for r in rows]}


@router.get("/genres", response_model=Page)
async def list_genres(conn: ConnDep, q: str | None = None, limit: Limit = 100, offset: Offset = 0) -> Page:
    """Genres with how many tracks carry them (from tags or from plugins), most used first."""
    return await _named_counts(conn, Genre, TrackGenre, TrackGenre.genre_id, q, limit, offset)


@router.get("/tags", response_model=Page)
async def list_tags(conn: ConnDep, q: str | None = None, limit: Limit = 100, offset: Offset = 0) -> Page:
    """Free tags (moods, styles) with how many tracks carry them, most used first."""
    return await _named_counts(conn, Tag, TrackTag, TrackTag.tag_id, q, limit, offset)


async def _named_counts(conn, entity, link, column, q, limit, offset) -> Page:
    tracks = func.count(func.distinct(link.track_id)).label("tracks")
    query = select(entity.id, entity.name, tracks).join(link, column == entity.id).group_by(entity.id, entity.name)
    if q:
        query = query.where(entity.name_key.contains(fold(q), autoescape=True))
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await conn.execute(query.order_by(tracks.desc(), entity.name).limit(limit).offset(offset))
    return Page(items=[dict(r._mapping) for r in rows], total=total, limit=limit, offset=offset)


class Features(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bpm: float | None = Field(None, gt=0, lt=1000)
    key: str | None = Field(None, max_length=16)
    features: dict[str, float | str | bool | None] | None = None


@router.get("/tracks/{track_id}/features")
async def get_features(conn: ConnDep, track_id: DbId) -> dict:
    """Audio features, and which vector models have embedded the track."""
    row = (await conn.execute(select(Track.bpm, Track.key, Track.features).where(Track.id == track_id))).first()
    if row is None:
        raise HTTPException(404, f"no track {track_id}")
    vectors = await conn.execute(select(TrackEmbedding.model, TrackEmbedding.dims)
                                 .where(TrackEmbedding.track_id == track_id).order_by(TrackEmbedding.model))
    return {"bpm": row.bpm, "key": row.key, "features": row.features or {},
            "vectors": [dict(v._mapping) for v in vectors]}


@router.put("/tracks/{track_id}/features")
async def put_features(conn: ConnDep, _: AdminDep, track_id: DbId, body: Features) -> dict:
    """Write BPM, key or features from outside (automation); given features merge into the stored ones."""
    current = (await conn.execute(select(Track.features).where(Track.id == track_id))).first()
    if current is None:
        raise HTTPException(404, f"no track {track_id}")
    values = {k: v for k, v in (("bpm", body.bpm), ("key", body.key)) if v is not None}
    if body.features is not None:
        values["features"] = {**(current.features or {}), **body.features}
    if values:
        await conn.execute(update(Track).where(Track.id == track_id).values(**values))
        await conn.commit()
    return await get_features(conn, track_id)
