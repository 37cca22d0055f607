"""GraphQL (strawberry): the library's lists and details, and the batch writes.

``router`` serves ``/api/graphql`` (GraphiQL for a browser's GET). Queries
answer what the REST routes of ``api/library.py`` answer (they call them, or for
tracks the page function the route keeps answers of, with the same paging limits); mutations call ``library.batch``, as ``api/batch.py``
does: one implementation of each. Every request needs a signed-in user (the
context asks for one, as REST routes do); mutations need the admin role. A
refused batch's error carries the REST status in ``extensions.status``;
unexpected errors are masked.

Resolvers open a connection each: GraphQL resolves sibling fields concurrently,
and a connection runs one statement at a time.
"""
from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Generic, TypeVar

import strawberry
from fastapi import HTTPException
from graphql import GraphQLError
from pydantic import ValidationError, create_model
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.experimental.pydantic import input as pydantic_input
from strawberry.extensions import MaskErrors
from strawberry.fastapi import GraphQLRouter
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.types import Info

from ..auth import Principal
from ..errors import SoniqueBayError
from ..library import batch
from . import library
from .deps import RuntimeDep
from .security import UserDep

T = TypeVar("T")

_Paging = create_model("Paging", limit=(library.Limit, 50), offset=(library.Offset, 0))


# -- what queries answer ------------------------------------------------------------------------

@strawberry.type
class Track:
    id: int
    path: str
    title: str
    artist: str | None
    artists: list[str]
    album_id: int | None
    album: str | None
    albumartist: str | None
    track_number: int | None
    track_total: int | None
    disc_number: int | None
    disc_total: int | None
    year: int | None
    date: str | None
    genres: list[str]
    tags: list[str]
    duration: float | None
    format: str
    codec: str | None
    bitrate: int | None
    sample_rate: int | None
    channels: int | None
    bpm: float | None
    key: str | None
    features: JSON
    mb_trackid: str | None
    mb_albumid: str | None
    has_embedded_cover: bool
    missing: bool
    stages: JSON


@strawberry.type
class Album:
    id: int
    title: str
    albumartist: str | None
    year: int | None
    date: str | None
    compilation: bool
    disc_total: int | None
    mb_albumid: str | None
    cover_id: int | None
    track_count: int
    duration: float | None


@strawberry.type
class AlbumDetail(Album):
    tracks: list[Track]


@strawberry.type
class Artist:
    id: int
    name: str
    sort_name: str | None
    mbid: str | None
    track_count: int


@strawberry.type
class ArtistDetail(Artist):
    albums: list[Album]


@strawberry.type
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def _build(cls: type[T], data: dict, **values: Any) -> T:
    """``cls`` from a REST answer's dict: the fields it declares, ``values`` over them."""
    names = {field.name for field in dataclasses.fields(cls)}
    return cls(**{**{k: v for k, v in data.items() if k in names}, **values})


def _track(data: dict) -> Track:
    return _build(Track, data)


def _album(data: dict) -> Album:
    return _build(Album, data, track_count=data["tracks"])


def _artist(data: dict) -> Artist:
    return _build(Artist, data, track_count=data["tracks"])


def _page(page: library.Page, build) -> Page:
    return Page(items=[build(item) for item in page.items], total=page.total, limit=page.limit, offset=page.offset)


# -- plumbing -------------------------------------------------------------------------------------

async def _context(user: UserDep, runtime: RuntimeDep) -> dict:
    return {"user": user, "runtime": runtime}


@asynccontextmanager
async def _connection(info: Info) -> AsyncIterator[AsyncConnection]:
    async with info.context["runtime"].db.engine.connect() as conn:
        yield conn


def _invalid(details: list[dict]) -> GraphQLError:
    return GraphQLError("invalid request", extensions={"status": 422, "details": details})


def _problems(exc: ValidationError, *where: str | int) -> list[dict]:
    return [{"where": ".".join(map(str, (*where, *e["loc"]))), "problem": e["msg"]} for e in exc.errors()]


def _paging(limit: int, offset: int) -> dict[str, int]:
    """The REST routes' bounds, checked: called directly, the routes would not check them."""
    try:
        return _Paging(limit=limit, offset=offset).model_dump()
    except ValidationError as exc:
        raise _invalid(_problems(exc)) from None


async def _detail(conn: AsyncConnection, route, object_id: int) -> dict | None:
    """A REST detail route's answer; None for its 404."""
    try:
        return await route(conn, object_id)
    except HTTPException as exc:
        if exc.status_code == 404:
            return None
        raise


# -- queries --------------------------------------------------------------------------------------

@strawberry.type
class Query:
    @strawberry.field(description="Tracks matching every filter given; q is free words (title, artist, album).")
    async def tracks(self, info: Info, q: str | None = None, artist: str | None = None, album: str | None = None,
                     genre: str | None = None, year_min: int | None = None, year_max: int | None = None,
                     sort: str = "added", limit: int = 50, offset: int = 0) -> Page[Track]:
        async with _connection(info) as conn:
            query = library.track_filters(q=q, artist=artist, album=album, genre=genre, year_min=year_min,
                                          year_max=year_max)
            page = await library.track_page(conn, query, sort, **_paging(limit, offset))
        return _page(page, _track)

    @strawberry.field
    async def track(self, info: Info, id: int) -> Track | None:
        async with _connection(info) as conn:
            found = await _detail(conn, library.get_track, id)
        return _track(found) if found else None

    @strawberry.field
    async def albums(self, info: Info, q: str | None = None, artist: str | None = None, year_min: int | None = None,
                     year_max: int | None = None, sort: str = "title", limit: int = 50,
                     offset: int = 0) -> Page[Album]:
        async with _connection(info) as conn:
            page = await library.list_albums(conn, q=q, artist=artist, year_min=year_min, year_max=year_max,
                                             sort=sort, **_paging(limit, offset))
        return _page(page, _album)

    @strawberry.field
    async def album(self, info: Info, id: int) -> AlbumDetail | None:
        async with _connection(info) as conn:
            found = await _detail(conn, library.get_album, id)
        if found is None:
            return None
        tracks = [_track(t) for t in found["tracks"]]
        return _build(AlbumDetail, found, track_count=len(tracks), tracks=tracks)

    @strawberry.field
    async def artists(self, info: Info, q: str | None = None, sort: str = "name", limit: int = 50,
                      offset: int = 0) -> Page[Artist]:
        async with _connection(info) as conn:
            page = await library.list_artists(conn, q=q, sort=sort, **_paging(limit, offset))
        return _page(page, _artist)

    @strawberry.field
    async def artist(self, info: Info, id: int) -> ArtistDetail | None:
        async with _connection(info) as conn:
            found = await _detail(conn, library.get_artist, id)
        if found is None:
            return None
        return _build(ArtistDetail, found, track_count=found["tracks"], albums=[_album(a) for a in found["albums"]])


# -- mutations ------------------------------------------------------------------------------------

@pydantic_input(model=batch.ArtistIn, all_fields=True)
class ArtistInput:
    pass


@pydantic_input(model=batch.AlbumIn, all_fields=True)
class AlbumInput:
    pass


@pydantic_input(model=batch.TrackIn, all_fields=True)
class TrackInput:
    pass


@pydantic_input(model=batch.TrackEdit, all_fields=True)
class TrackEditInput:
    pass


class IsAdmin(BasePermission):
    message = "this needs the admin role"
    error_extensions = {"status": 403}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        user: Principal = info.context["user"]
        return user.admin


@contextmanager
def _answering() -> Iterator[None]:
    try:
        yield
    except batch.BatchError as exc:
        raise GraphQLError(str(exc), extensions={"status": exc.status}) from None


def _validated(items: list) -> list:
    """The inputs as the service's models, every invalid one listed."""
    models, details = [], []
    for index, item in enumerate(items):
        try:
            models.append(item.to_pydantic())
        except ValidationError as exc:
            details += _problems(exc, "items", index)
    if details:
        raise _invalid(details)
    return models


async def _write(info: Info, write, items: list, *extra: Any) -> list[int]:
    with _answering():
        batch.check_size(len(items))
        models = _validated(items)
        async with _connection(info) as conn:
            return await write(conn, models, *extra)


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[IsAdmin], description="Artists by folded name; ids in input order.")
    async def create_artists(self, info: Info, items: list[ArtistInput]) -> list[int]:
        return await _write(info, batch.upsert_artists, items)

    @strawberry.mutation(permission_classes=[IsAdmin], description="Albums by the scanner's identity.")
    async def create_albums(self, info: Info, items: list[AlbumInput]) -> list[int]:
        return await _write(info, batch.upsert_albums, items)

    @strawberry.mutation(permission_classes=[IsAdmin], description="Tracks for audio files in library roots.")
    async def create_tracks(self, info: Info, items: list[TrackInput]) -> list[int]:
        return await _write(info, batch.upsert_tracks, items, info.context["runtime"].host)

    @strawberry.mutation(permission_classes=[IsAdmin], description="Edit tracks by id.")
    async def update_tracks(self, info: Info, items: list[TrackEditInput]) -> list[int]:
        return await _write(info, batch.update_tracks, items)


def _should_mask(error: GraphQLError) -> bool:
    """Mask what nobody meant to say: errors raised as neither GraphQL errors nor the core's refusals."""
    return error.original_error is not None and not isinstance(error.original_error, (GraphQLError,
                                                                                       SoniqueBayError))


schema = strawberry.Schema(query=Query, mutation=Mutation, extensions=[
    lambda: MaskErrors(should_mask_error=_should_mask, error_message="internal error")])
router = GraphQLRouter(schema, context_getter=_context, prefix="/api/graphql", tags=["graphql"])
