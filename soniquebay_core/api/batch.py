"""Batch writes for automation: artists, albums and tracks in chunks of up to 500.

``POST /api/batch/{artists,albums,tracks}`` creates or completes by natural key
(folded artist name, album identity, file path); ``PATCH /api/batch/tracks``
edits tracks by id. A request is one transaction and answers the ids in input
order. The work is ``library.batch``'s, shared with GraphQL. Admin only.

Statuses: 403 for non-admins, 413 for more than 500 items (before the items are
validated), 422 for invalid items or paths that are not audio files of the
library, 409 for items that contradict each other or a concurrent change.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict

from ..library import batch
from .deps import ConnDep, RuntimeDep
from .security import admin_user

T = TypeVar("T")


@contextmanager
def _answering() -> Iterator[None]:
    """A refused batch answers with the status the service chose."""
    try:
        yield
    except batch.BatchError as exc:
        raise HTTPException(exc.status, str(exc)) from None


async def _not_too_many(request: Request) -> None:
    """413 before validation: an oversized batch is refused whole, not listed item by item."""
    try:
        body = await request.json()  # parsed once already: Starlette keeps it
    except ValueError:
        return  # not JSON: validation answers 422
    items = body.get("items") if isinstance(body, dict) else None
    if isinstance(items, list):
        with _answering():
            batch.check_size(len(items))


router = APIRouter(prefix="/api/batch", tags=["batch"],
                   dependencies=[Depends(admin_user), Depends(_not_too_many)])


class Items(BaseModel, Generic[T]):
    model_config = ConfigDict(extra="forbid")
    items: list[T]


class Ids(BaseModel):
    ids: list[int]


@router.post("/artists")
async def upsert_artists(conn: ConnDep, body: Items[batch.ArtistIn]) -> Ids:
    """Artists by folded name: new ones are created, known ones take the sort name and MBID given."""
    with _answering():
        return Ids(ids=await batch.upsert_artists(conn, body.items))


@router.post("/albums")
async def upsert_albums(conn: ConnDep, body: Items[batch.AlbumIn]) -> Ids:
    """Albums by the scanner's identity (MusicBrainz id, else album artist and title)."""
    with _answering():
        return Ids(ids=await batch.upsert_albums(conn, body.items))


@router.post("/tracks")
async def upsert_tracks(conn: ConnDep, runtime: RuntimeDep, body: Items[batch.TrackIn]) -> Ids:
    """Tracks for audio files inside library roots, read now; given tags replace the file's."""
    with _answering():
        return Ids(ids=await batch.upsert_tracks(conn, body.items, runtime.host))


@router.patch("/tracks")
async def update_tracks(conn: ConnDep, body: Items[batch.TrackEdit]) -> Ids:
    """Edit tracks by id: given tags replace the stored ones, the rest stay."""
    with _answering():
        return Ids(ids=await batch.update_tracks(conn, body.items))
