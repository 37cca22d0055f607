"""Playlists and the server-side play queue of each user.

Both belong to the caller alone: a user (an admin too) sees and edits only
their own; someone else's playlist answers 404, as one that does not exist.

A playlist and a queue are ordered track ids keyed by (owner, position). An
edit reads the list, changes it in Python and writes it back whole, with
positions 0..n-1, in one transaction (``_rewrite``): shifting positions in
place could collide with the composite primary key. Rows vanish when their
track is deleted (ON DELETE CASCADE), so positions in the API are always the
index in the order read, never the stored numbers. An edit starts with a
write that locks its list (touching the playlist's ``updated_at``; for the
queue, its row in ``settings``), so that two edits of one list take turns on
PostgreSQL and SQLite alike instead of losing one or colliding on a key.

The queue's current index lives in ``settings`` under ``queue.current.<user
id>``; edits keep it on the same track, wherever that track moves.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import Column, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..library.query import tracks_by_id
from ..library.writer import insert_for
from ..models import Playlist, PlaylistTrack, PlayQueueItem, Setting, Track
from .deps import ConnDep, DbId
from .library import Limit, Offset, Page
from .security import UserDep

router = APIRouter(prefix="/api", tags=["playlists"])

MAX_BATCH = 500
"""Track ids one request may send (413 beyond)."""

INT32 = 2**31 - 1  # ids are 32-bit integers in the database: larger ones cannot name anything
TrackId = Annotated[int, Field(strict=True, ge=1, le=INT32)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

PLAYLIST_ROWS: Column = PlaylistTrack.__table__.c.playlist_id
QUEUE_ROWS: Column = PlayQueueItem.__table__.c.user_id

T = TypeVar("T")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewPlaylist(Body):
    name: Name
    track_ids: list[TrackId] = []


class Rename(Body):
    name: Name


class AddTracks(Body):
    track_ids: Annotated[list[TrackId], Field(min_length=1)]
    position: int | None = Field(None, description="insert before this position; the end when absent")


class Move(Body):
    from_position: int
    to_position: int


class NewQueue(Body):
    track_ids: list[TrackId]
    current: int | None = Field(None, description="index of the playing track; 0 when absent (null if empty)")


class SaveQueue(Body):
    name: Name


# -- list edits (pure) ------------------------------------------------------------------------------

def _position(position: int, last: int) -> int:
    """``position`` when it lies in 0..last, else a 422."""
    if not 0 <= position <= last:
        allowed = f"0..{last}" if last >= 0 else "none: the list is empty"
        raise HTTPException(422, f"position {position} is out of range (allowed: {allowed})")
    return position


def _inserted(items: list[T], new: Sequence[T], position: int | None) -> list[T]:
    at = len(items) if position is None else _position(position, len(items))
    return [*items[:at], *new, *items[at:]]


def _removed(items: list[T], position: int) -> list[T]:
    _position(position, len(items) - 1)
    return items[:position] + items[position + 1:]


def _moved(items: list[T], move: Move) -> list[T]:
    rest = _removed(items, move.from_position)
    return _inserted(rest, [items[move.from_position]], move.to_position)


# -- ordered track lists in the database -------------------------------------------------------------

async def _track_ids(conn: AsyncConnection, owner: Column, owner_id: int) -> list[int]:
    table = owner.table
    rows = await conn.execute(select(table.c.track_id).where(owner == owner_id).order_by(table.c.position))
    return list(rows.scalars())


async def _rewrite(conn: AsyncConnection, owner: Column, owner_id: int, track_ids: Sequence[int]) -> None:
    """Replace the owner's rows by ``track_ids`` at positions 0..n-1."""
    table = owner.table
    await conn.execute(delete(table).where(owner == owner_id))
    if track_ids:
        await conn.execute(insert(table), [{owner.name: owner_id, "position": position, "track_id": track_id}
                                           for position, track_id in enumerate(track_ids)])


async def _tracks(conn: AsyncConnection, track_ids: list[int]) -> list[dict]:
    """The API's track dicts for ``track_ids``, in that order (repeats repeated)."""
    unique = list(dict.fromkeys(track_ids))
    by_id: dict[int, dict] = {}
    for start in range(0, len(unique), MAX_BATCH):
        by_id.update((t["id"], t) for t in await tracks_by_id(conn, unique[start:start + MAX_BATCH]))
    return [by_id[track_id] for track_id in track_ids]


async def _checked(conn: AsyncConnection, track_ids: list[int]) -> list[int]:
    """``track_ids`` when each names a track whose file is present: else 413 (too many) or 422 (listing them)."""
    if len(track_ids) > MAX_BATCH:
        raise HTTPException(413, f"at most {MAX_BATCH} track ids per request ({len(track_ids)} sent)")
    present = set((await conn.execute(
        select(Track.id).where(Track.id.in_(track_ids), Track.missing.is_(False)))).scalars())
    unknown = [track_id for track_id in dict.fromkeys(track_ids) if track_id not in present]
    if unknown:
        raise HTTPException(422, f"unknown or missing track ids: {', '.join(map(str, unknown))}")
    return track_ids


# -- playlists -------------------------------------------------------------------------------------

def _summaries(user_id: int):
    """The user's playlists with how many tracks each holds and their duration in seconds."""
    columns = (Playlist.id, Playlist.name, Playlist.added_at, Playlist.updated_at)
    return select(*columns, func.count(PlaylistTrack.track_id).label("track_count"),
                  func.coalesce(func.sum(Track.duration), 0.0).label("duration"))\
        .outerjoin(PlaylistTrack, PlaylistTrack.playlist_id == Playlist.id)\
        .outerjoin(Track, Track.id == PlaylistTrack.track_id)\
        .where(Playlist.user_id == user_id).group_by(*columns)


async def _playlist(conn: AsyncConnection, user_id: int, playlist_id: int) -> dict:
    row = (await conn.execute(_summaries(user_id).where(Playlist.id == playlist_id))).first()
    if row is None:
        raise HTTPException(404, f"no playlist {playlist_id}")
    track_ids = await _track_ids(conn, PLAYLIST_ROWS, playlist_id)
    return {**row._mapping, "tracks": await _tracks(conn, track_ids)}


async def _create(conn: AsyncConnection, user_id: int, name: str, track_ids: list[int]) -> int:
    result = await conn.execute(insert(Playlist).values(user_id=user_id, name=name))
    playlist_id = result.inserted_primary_key[0]
    await _rewrite(conn, PLAYLIST_ROWS, playlist_id, track_ids)
    return playlist_id


async def _touch(conn: AsyncConnection, user_id: int, playlist_id: int, **values) -> None:
    """Mark the user's playlist changed, which locks it until commit; 404 when it is not theirs."""
    changed = await conn.execute(update(Playlist).where(Playlist.id == playlist_id, Playlist.user_id == user_id)
                                 .values(updated_at=func.now(), **values))
    if changed.rowcount == 0:
        raise HTTPException(404, f"no playlist {playlist_id}")


async def _edit_playlist(conn: AsyncConnection, user_id: int, playlist_id: int,
                         change: Callable[[list[int]], list[int]]) -> dict:
    await _touch(conn, user_id, playlist_id)
    track_ids = await _track_ids(conn, PLAYLIST_ROWS, playlist_id)
    await _rewrite(conn, PLAYLIST_ROWS, playlist_id, change(track_ids))
    await conn.commit()
    return await _playlist(conn, user_id, playlist_id)


@router.get("/playlists", response_model=Page)
async def list_playlists(conn: ConnDep, user: UserDep, limit: Limit = 50, offset: Offset = 0) -> Page:
    """The caller's playlists, oldest first, without their tracks."""
    mine = select(func.count()).select_from(Playlist).where(Playlist.user_id == user.user_id)
    total = (await conn.execute(mine)).scalar_one()
    rows = await conn.execute(_summaries(user.user_id).order_by(Playlist.id).limit(limit).offset(offset))
    return Page(items=[dict(r._mapping) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/playlists", status_code=201)
async def create_playlist(conn: ConnDep, user: UserDep, body: NewPlaylist) -> dict:
    playlist_id = await _create(conn, user.user_id, body.name, await _checked(conn, body.track_ids))
    await conn.commit()
    return await _playlist(conn, user.user_id, playlist_id)


@router.get("/playlists/{playlist_id}")
async def get_playlist(conn: ConnDep, user: UserDep, playlist_id: DbId) -> dict:
    """A playlist with its tracks in order; a track's position is its index in ``tracks``."""
    return await _playlist(conn, user.user_id, playlist_id)


@router.patch("/playlists/{playlist_id}")
async def rename_playlist(conn: ConnDep, user: UserDep, playlist_id: DbId, body: Rename) -> dict:
    await _touch(conn, user.user_id, playlist_id, name=body.name)
    await conn.commit()
    return await _playlist(conn, user.user_id, playlist_id)


@router.delete("/playlists/{playlist_id}")
async def delete_playlist(conn: ConnDep, user: UserDep, playlist_id: DbId) -> dict:
    deleted = await conn.execute(delete(Playlist).where(Playlist.id == playlist_id,
                                                        Playlist.user_id == user.user_id))
    if deleted.rowcount == 0:
        raise HTTPException(404, f"no playlist {playlist_id}")
    await conn.commit()
    return {"deleted": playlist_id}


@router.post("/playlists/{playlist_id}/tracks")
async def add_to_playlist(conn: ConnDep, user: UserDep, playlist_id: DbId, body: AddTracks) -> dict:
    new = await _checked(conn, body.track_ids)
    return await _edit_playlist(conn, user.user_id, playlist_id,
                                lambda track_ids: _inserted(track_ids, new, body.position))


@router.delete("/playlists/{playlist_id}/tracks/{position}")
async def remove_from_playlist(conn: ConnDep, user: UserDep, playlist_id: DbId, position: int) -> dict:
    return await _edit_playlist(conn, user.user_id, playlist_id,
                                lambda track_ids: _removed(track_ids, position))


@router.post("/playlists/{playlist_id}/move")
async def move_in_playlist(conn: ConnDep, user: UserDep, playlist_id: DbId, body: Move) -> dict:
    return await _edit_playlist(conn, user.user_id, playlist_id, lambda track_ids: _moved(track_ids, body))


# -- the play queue ----------------------------------------------------------------------------------

Slot = tuple[int | None, int]
"""A queue entry during an edit: (its position before the edit, None for an added track; the track id)."""


def _current_key(user_id: int) -> str:
    return f"queue.current.{user_id}"


async def _current(conn: AsyncConnection, user_id: int, size: int) -> int | None:
    stored = (await conn.execute(select(Setting.value).where(Setting.key == _current_key(user_id)))).scalar()
    if size == 0:
        return None
    return min(stored, size - 1) if isinstance(stored, int) else 0


async def _store_current(conn: AsyncConnection, user_id: int, current: int | None) -> None:
    key = _current_key(user_id)
    if current is None:
        await conn.execute(delete(Setting).where(Setting.key == key))
        return
    upsert = insert_for(conn, Setting.__table__).values(key=key, value=current)
    await conn.execute(upsert.on_conflict_do_update(index_elements=["key"], set_={"value": upsert.excluded.value}))


def _followed(current: int | None, slots: list[Slot]) -> int | None:
    """The current index after an edit: where the current track went, or, when it was removed, the
    track that took its place (the new last one if it was last)."""
    if not slots:
        return None
    if current is None:
        return 0
    before = [was for was, _ in slots]
    return before.index(current) if current in before else min(current, len(slots) - 1)


async def _queue(conn: AsyncConnection, user_id: int) -> dict:
    track_ids = await _track_ids(conn, QUEUE_ROWS, user_id)
    return {"tracks": await _tracks(conn, track_ids), "current": await _current(conn, user_id, len(track_ids))}


async def _lock_queue(conn: AsyncConnection, user_id: int) -> None:
    """Hold the queue until commit: an upsert keeping the stored index locks its ``settings`` row on
    PostgreSQL and, on SQLite, takes the write lock before the queue is read."""
    upsert = insert_for(conn, Setting.__table__).values(key=_current_key(user_id), value=None)
    await conn.execute(upsert.on_conflict_do_update(index_elements=["key"], set_={"value": Setting.value}))


async def _write_queue(conn: AsyncConnection, user_id: int, track_ids: list[int], current: int | None) -> dict:
    await _rewrite(conn, QUEUE_ROWS, user_id, track_ids)
    await _store_current(conn, user_id, current)
    await conn.commit()
    return await _queue(conn, user_id)


async def _edit_queue(conn: AsyncConnection, user_id: int, change: Callable[[list[Slot]], list[Slot]]) -> dict:
    await _lock_queue(conn, user_id)
    track_ids = await _track_ids(conn, QUEUE_ROWS, user_id)
    current = await _current(conn, user_id, len(track_ids))
    slots = change(list(enumerate(track_ids)))
    return await _write_queue(conn, user_id, [track_id for _, track_id in slots], _followed(current, slots))


@router.get("/queue")
async def get_queue(conn: ConnDep, user: UserDep) -> dict:
    """The caller's queue: tracks in order and ``current``, the index of the playing one (null when empty)."""
    return await _queue(conn, user.user_id)


@router.put("/queue")
async def replace_queue(conn: ConnDep, user: UserDep, body: NewQueue) -> dict:
    track_ids = await _checked(conn, body.track_ids)
    current = body.current if body.current is not None else (0 if track_ids else None)
    if current is not None:
        _position(current, len(track_ids) - 1)
    await _lock_queue(conn, user.user_id)
    return await _write_queue(conn, user.user_id, track_ids, current)


@router.delete("/queue")
async def clear_queue(conn: ConnDep, user: UserDep) -> dict:
    await _lock_queue(conn, user.user_id)
    return await _write_queue(conn, user.user_id, [], None)


@router.post("/queue/tracks")
async def add_to_queue(conn: ConnDep, user: UserDep, body: AddTracks) -> dict:
    """Add tracks (at the end by default); "play next" is ``position`` = current + 1."""
    new = [(None, track_id) for track_id in await _checked(conn, body.track_ids)]
    return await _edit_queue(conn, user.user_id, lambda slots: _inserted(slots, new, body.position))


@router.delete("/queue/tracks/{position}")
async def remove_from_queue(conn: ConnDep, user: UserDep, position: int) -> dict:
    return await _edit_queue(conn, user.user_id, lambda slots: _removed(slots, position))


@router.post("/queue/move")
async def move_in_queue(conn: ConnDep, user: UserDep, body: Move) -> dict:
    return await _edit_queue(conn, user.user_id, lambda slots: _moved(slots, body))


@router.post("/queue/save", status_code=201)
async def save_queue_as_playlist(conn: ConnDep, user: UserDep, body: SaveQueue) -> dict:
    """A new playlist holding the queue's tracks, in order."""
    track_ids = await _track_ids(conn, QUEUE_ROWS, user.user_id)
    playlist_id = await _create(conn, user.user_id, body.name, track_ids)
    await conn.commit()
    return await _playlist(conn, user.user_id, playlist_id)
