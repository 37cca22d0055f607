"""Writing what stage plugins returned, and the stage state, in the core's own transaction.

Plugins return data (``TrackPatch``, ``CoverCandidate``, ``Embedding``); this
module is the one writer for it. Everything is an upsert, so writing the same
result twice leaves one copy.
"""
from __future__ import annotations

import asyncio
import logging
import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import covers_store
from ..library.writer import ids_by_key, insert_for
from ..models import (
    Album,
    AlbumArtist,
    ArtistImage,
    Cover,
    Genre,
    Tag,
    Track,
    TrackEmbedding,
    TrackGenre,
    TrackStage,
    TrackTag,
)
from ..schemas import AlbumArt, CoverCandidate, Embedding, TrackPatch
from ..search import refresh_search_text
from ..stages import ALBUM_STAGES
from ..text import fold

log = logging.getLogger("soniquebay.pipeline")


@dataclass
class Outcome:
    """How one target (a track, or an album for album stages) came out of a job."""

    target: int
    status: str  # done | retry | failed
    value: Any = None
    error: str | None = None
    attempts: int = 1
    next_attempt_at: datetime | None = None
    features: dict | None = None  # the track's features before the patch, to merge into
    revision: int | None = None  # the track's revision the snapshot was read at (track stages)


async def write_outcomes(conn: AsyncConnection, plugin: str, stage: str, version: str, outcomes: list[Outcome],
                         data_dir: Path) -> None:
    for outcome in outcomes:
        if outcome.status == "done" and outcome.value is not None:
            await _apply(conn, plugin, stage, outcome, data_dir)
    await _record_stages(conn, plugin, stage, version, outcomes)


async def _apply(conn: AsyncConnection, plugin: str, stage: str, outcome: Outcome, data_dir: Path) -> None:
    value = outcome.value
    if isinstance(value, TrackPatch):
        await _apply_patch(conn, plugin, outcome.target, value, outcome.features or {})
    elif isinstance(value, CoverCandidate):
        await _store_cover(conn, outcome.target, value, data_dir)
    elif isinstance(value, Embedding):
        await _store_embedding(conn, outcome.target, value)
    else:
        raise TypeError(f"{plugin}.{stage} returned {type(value).__name__}, not a result the core can store")


async def _apply_patch(conn: AsyncConnection, plugin: str, track_id: int, patch: TrackPatch, features: dict) -> None:
    values: dict[str, Any] = {}
    if patch.bpm is not None:
        values["bpm"] = patch.bpm
    if patch.key is not None:
        values["key"] = patch.key
    if patch.features is not None:
        values["features"] = {**features, **patch.features}
    if values:
        await conn.execute(update(Track).where(Track.id == track_id).values(**values))
    if patch.genres is not None:
        await _replace_links(conn, TrackGenre, Genre, "genre_id", plugin, track_id,
                             [(name, {"position": i}) for i, name in enumerate(patch.genres)])
    if patch.tags is not None:
        await _replace_links(conn, TrackTag, Tag, "tag_id", plugin, track_id,
                             [(t.name, {"weight": t.weight}) for t in patch.tags])
    if patch.genres is not None or patch.tags is not None:
        await refresh_search_text(conn, [track_id])


async def _replace_links(conn, link, entity, column: str, plugin: str, track_id: int,
                         names: list[tuple[str, dict]]) -> None:
    """This plugin's genres (or tags) for the track replace what it said before; others' stay."""
    await conn.execute(delete(link).where(link.track_id == track_id, link.source == plugin))
    names = [(n.strip(), extra) for n, extra in names if n.strip()]
    if not names:
        return
    ids = await ids_by_key(conn, entity.__table__, "name_key",
                           {fold(n): {"name": n, "name_key": fold(n)} for n, _ in names})
    rows = {ids[fold(n)]: extra for n, extra in names}
    await conn.execute(insert_for(conn, link.__table__).on_conflict_do_nothing(), [
        {"track_id": track_id, column: entity_id, "source": plugin, **extra} for entity_id, extra in rows.items()])


async def _store_cover(conn: AsyncConnection, album_id: int, cover: CoverCandidate, data_dir: Path) -> None:
    """The album's cover (and, from an ``AlbumArt``, its first album artist's image), with thumbnails.

    Bytes that are not an image are logged and left out: one bad answer must not undo the job's others.
    """
    cover_id = await _stored_image(conn, cover, data_dir, f"cover of album {album_id}")
    if cover_id is not None:
        await conn.execute(update(Album).where(Album.id == album_id).values(cover_id=cover_id))
    if not isinstance(cover, AlbumArt) or cover.artist_image is None:
        return
    artist_id = await conn.scalar(select(AlbumArtist.artist_id).where(AlbumArtist.album_id == album_id)
                                  .order_by(AlbumArtist.position).limit(1))
    image_id = None if artist_id is None else await _stored_image(conn, cover.artist_image, data_dir,
                                                                  f"image of artist {artist_id}")
    if image_id is not None:
        stmt = insert_for(conn, ArtistImage.__table__)
        await conn.execute(stmt.on_conflict_do_update(index_elements=["artist_id"],
                                                      set_={"cover_id": stmt.excluded.cover_id}),
                           {"artist_id": artist_id, "cover_id": image_id})


async def _stored_image(conn: AsyncConnection, image: CoverCandidate, data_dir: Path, what: str) -> int | None:
    """The ``covers`` row of the image (files written outside the event loop), or None when it is not one."""
    try:
        stored = await asyncio.to_thread(covers_store.store, image.data, data_dir)
    except covers_store.InvalidImage as exc:
        log.warning("%s from %s not stored: %s", what, image.source, exc)
        return None
    await conn.execute(insert_for(conn, Cover.__table__).on_conflict_do_nothing(index_elements=["sha256"]), {
        "sha256": stored.sha256, "mime": stored.mime, "width": stored.width, "height": stored.height,
        "source": image.source, "file": stored.file})
    return await conn.scalar(select(Cover.id).where(Cover.sha256 == stored.sha256))


_EMBEDDING_STATEMENTS: dict[str, tuple] = {}  # per dialect: built once (``excluded`` is costly to build per row)


def _embedding_statements(conn: AsyncConnection) -> tuple:
    dialect = conn.dialect.name
    if dialect not in _EMBEDDING_STATEMENTS:
        table = TrackEmbedding.__table__
        stmt = insert_for(conn, table)
        _EMBEDDING_STATEMENTS[dialect] = (
            delete(table).where(table.c.track_id == bindparam("t"), table.c.model != bindparam("m")),
            stmt.on_conflict_do_update(index_elements=["track_id", "model"], set_={
                c: stmt.excluded[c] for c in ("dims", "vector", "input_hash", "added_at")}))
    return _EMBEDDING_STATEMENTS[dialect]


async def _store_embedding(conn: AsyncConnection, track_id: int, embedding: Embedding) -> None:
    """One vector per track: a new model's vector replaces the old model's. ``added_at`` is when the
    vector was last written (the vector indexes refresh from it)."""
    blob = struct.pack(f"<{len(embedding.vector)}f", *embedding.vector)
    forget_other_models, upsert = _embedding_statements(conn)
    await conn.execute(forget_other_models, {"t": track_id, "m": embedding.model})
    await conn.execute(upsert, {"track_id": track_id, "model": embedding.model, "dims": len(embedding.vector),
                                "vector": blob, "input_hash": embedding.input_hash})


async def _record_stages(conn: AsyncConnection, plugin: str, stage: str, version: str,
                         outcomes: list[Outcome]) -> None:
    if not outcomes:
        return
    rows = []
    tracks_of = await _album_tracks(conn, [o.target for o in outcomes]) if stage in ALBUM_STAGES else None
    for o in outcomes:
        state = {"plugin": plugin, "stage": stage, "status": o.status, "plugin_version": version,
                 "attempts": o.attempts, "error": o.error, "next_attempt_at": o.next_attempt_at,
                 "track_revision": o.revision}
        for track_id in (tracks_of.get(o.target, []) if tracks_of is not None else [o.target]):
            rows.append({"track_id": track_id, **state})
    if not rows:
        return
    stmt = insert_for(conn, TrackStage.__table__)
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["track_id", "plugin", "stage"],
        set_={c: stmt.excluded[c] for c in ("status", "plugin_version", "attempts", "error", "next_attempt_at",
                                             "track_revision", "updated_at")}), rows)


async def _album_tracks(conn: AsyncConnection, album_ids: list[int]) -> dict[int, list[int]]:
    tracks: dict[int, list[int]] = {}
    result = await conn.execute(select(Track.album_id, Track.id).where(Track.album_id.in_(album_ids)))
    for album_id, track_id in result:
        tracks.setdefault(album_id, []).append(track_id)
    return tracks
