"""Batch writes of artists, albums and tracks: the one service behind REST and GraphQL.

Each call takes at most ``MAX_ITEMS`` items, writes them in one transaction (all
or nothing) and answers their ids in input order. Identity is the scanner's, so
a batch and a scan never make two rows of one thing: artists by folded name,
albums by the album key of ``rows``, tracks by path.

- ``upsert_artists`` and ``upsert_albums`` create rows or complete them, as a
  scan does: given values replace stored ones, the first spelling of a name
  stays. A scan's cleanup deletes albums without tracks and artists credited
  nowhere, as it deletes those a scan made.
- ``upsert_tracks`` adds files under a library root the way a scan reads them
  (``read_tags``, ``rows.track_row``, ``writer.write_tracks``), with the item's
  tags over the file's; the next scan finds them unchanged.
- ``update_tracks`` edits tracks by id: the stored track is turned back into a
  ``TagInfo``, takes the edit and goes through the same rows and writer.

In an item ``None`` means "not given" (the file's or stored value stays), as in
``schemas.TrackPatch``; ``[]`` empties a list. The edits live in the library
only: a full rescan (``scan --full``) reads the files' own tags again.
"""
from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ..errors import SoniqueBayError
from ..models import AlbumArtist, Artist, Genre, Root, TrackArtist, TrackGenre
from ..plugins import PluginHost
from ..scanner import reading
from ..scanner.walk import FileStat, entries_of, ignored_by_plugins
from ..schemas import TagInfo
from ..search import refresh_search_text
from ..text import fold
from . import rows, writer

log = logging.getLogger("soniquebay.batch")

MAX_ITEMS = 500
INT32 = 2**31 - 1

# what an upsert may change in a stored row: the columns ``writer.write_tracks`` refreshes
ARTIST_REFRESH = ("sort_name", "mbid")
ALBUM_REFRESH = ("albumartist_sort", "year", "date", "original_date", "disc_total", "label", "mb_releasegroupid")


def _text(max_length: int):
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)]


Name = _text(500)
Names = Annotated[list[Name], Field(min_length=1, max_length=100)]
MbId = _text(36)
Number = Annotated[int, Field(ge=0, le=INT32)]
Year = Annotated[int, Field(ge=0, le=9999)]
Date = _text(32)
TrackId = Annotated[int, Field(strict=True, ge=1, le=INT32)]


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ArtistIn(_Item):
    name: Name
    sort_name: Name | None = None
    mbid: MbId | None = Field(None, description="MusicBrainz artist id")


class AlbumIn(_Item):
    """An album named as a tag reader would see it: the same fields give the same identity."""

    title: Name
    albumartist: Name | None = Field(None, description="display album artist")
    albumartists: list[Name] = Field(default_factory=list, max_length=100)
    albumartist_sort: Name | None = None
    compilation: bool = False
    year: Year | None = None
    date: Date | None = None
    original_date: Date | None = None
    disc_total: Number | None = None
    label: Name | None = None
    mb_albumid: MbId | None = Field(None, description="MusicBrainz release id: the identity when given")
    mb_releasegroupid: MbId | None = None
    mb_albumartistids: list[MbId] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _has_an_artist(self) -> AlbumIn:
        if not (self.albumartist or self.albumartists or self.compilation):
            raise ValueError("an album needs albumartist, albumartists or compilation: true")
        return self

    def album_row(self) -> rows.AlbumRow:
        # with an album artist given, neither folder nor track credits take part in identity
        tags = TagInfo(format="", album=self.title, **self.model_dump(exclude={"title"}))
        return rows.album_row(tags, "", [])


class TrackTags(_Item):
    """Tags an item may set on a track; the rest come from the file, or stay as stored."""

    title: Name | None = None
    artist: Name | None = Field(None, description="display artist, e.g. 'A feat. B'")
    artists: Names | None = None
    album: Name | None = None
    albumartist: Name | None = None
    albumartists: Names | None = None
    compilation: bool | None = None
    composers: list[Name] | None = Field(None, max_length=100)
    genres: list[Name] | None = Field(None, max_length=100)
    track_number: Number | None = None
    track_total: Number | None = None
    disc_number: Number | None = None
    disc_total: Number | None = None
    date: Date | None = None
    year: Year | None = None
    bpm: Annotated[float, Field(ge=0, le=1000)] | None = None
    key: _text(16) | None = None
    isrc: _text(16) | None = None
    mb_trackid: MbId | None = None
    mb_albumid: MbId | None = None

    def changes(self) -> dict:
        return self.model_dump(include=set(TrackTags.model_fields), exclude_none=True)


class TrackIn(TrackTags):
    path: Annotated[str, Field(min_length=1, max_length=4096, description="absolute path of an audio file "
                                                                         "inside a library root")]


class TrackEdit(TrackTags):
    id: TrackId


class BatchError(SoniqueBayError):
    """A batch refused whole; ``status`` is the HTTP status that says why."""

    status = 422


class TooManyItems(BatchError):
    status = 413


class ConflictingItems(BatchError):
    status = 409


def check_size(count: int) -> None:
    if count > MAX_ITEMS:
        raise TooManyItems(f"at most {MAX_ITEMS} items per batch ({count} sent)")


@asynccontextmanager
async def _transaction(conn: AsyncConnection):
    """The block's writes in one transaction: all of them, or none when it raises."""
    await conn.commit()  # end what earlier reads began: the writes get a transaction of their own
    try:
        async with conn.begin():
            yield
    except IntegrityError:
        raise ConflictingItems("the batch conflicts with a concurrent change; nothing was written") from None


def _merged(keyed: Iterable[tuple[str, dict]], columns: Sequence[str]) -> dict[str, dict]:
    """One row per key; items sharing a key must agree on ``columns`` wherever both give a value."""
    merged: dict[str, dict] = {}
    clashes: set[str] = set()
    for key, values in keyed:
        row = merged.setdefault(key, dict(values))
        for column in columns:
            if row[column] is None:
                row[column] = values[column]
            elif values[column] is not None and values[column] != row[column]:
                clashes.add(key)
    if clashes:
        raise ConflictingItems(f"items of the same identity disagree: {', '.join(sorted(clashes))}")
    return merged


def _repeated(keys: Iterable, what: str) -> None:
    repeated = [str(key) for key, count in Counter(keys).items() if count > 1]
    if repeated:
        raise ConflictingItems(f"the same {what} more than once: {', '.join(repeated)}")


# -- artists and albums -----------------------------------------------------------------------------

async def upsert_artists(conn: AsyncConnection, items: Sequence[ArtistIn]) -> list[int]:
    check_size(len(items))
    values = _merged(((fold(item.name), {"name": item.name, "name_key": fold(item.name),
                                         "sort_name": item.sort_name, "mbid": item.mbid}) for item in items),
                     ARTIST_REFRESH)
    async with _transaction(conn):
        ids = await writer.ids_by_key(conn, writer.ARTISTS, "name_key", values, refresh=ARTIST_REFRESH)
    return [ids[fold(item.name)] for item in items]


async def upsert_albums(conn: AsyncConnection, items: Sequence[AlbumIn]) -> list[int]:
    check_size(len(items))
    albums = [item.album_row() for item in items]
    values = _merged(((album.album_key, album.values()) for album in albums), ALBUM_REFRESH)
    async with _transaction(conn):
        ids = await _write_albums(conn, albums, values)
    return [ids[album.album_key] for album in albums]


async def _write_albums(conn: AsyncConnection, albums: list[rows.AlbumRow], values: dict[str, dict]) -> dict[str, int]:
    """The album part of ``writer.write_tracks``: the albums, their artists and the links between them."""
    artists: dict[str, dict] = {}
    for album in albums:
        writer.artist_values(album.artists, artists)
    artist_ids = await writer.ids_by_key(conn, writer.ARTISTS, "name_key", artists, refresh=ARTIST_REFRESH)
    album_ids = await writer.ids_by_key(conn, writer.ALBUMS, "album_key", values, refresh=ALBUM_REFRESH)
    links = {(album_ids[a.album_key], artist_ids[fold(c.name)]): i for a in albums for i, c in enumerate(a.artists)}
    if links:
        await conn.execute(writer.insert_for(conn, AlbumArtist.__table__).on_conflict_do_nothing(),
                           [{"album_id": a, "artist_id": b, "position": i} for (a, b), i in links.items()])
    return album_ids


# -- tracks ----------------------------------------------------------------------------------------

ALBUM_FIELDS = frozenset({"album", "albumartist", "albumartists", "compilation"})


def _overlay(tags: TagInfo, item: TrackTags) -> TagInfo:
    """``tags`` with what ``item`` gives; a new artist or album drops the old one's ids and sort names."""
    changes = item.changes()
    if "artists" in changes:
        changes.setdefault("artist", "; ".join(changes["artists"]))
    if "artist" in changes:
        changes.setdefault("artists", [])
        changes.update(artist_sort=None, mb_artistids=[])
    if "albumartists" in changes:
        changes.setdefault("albumartist", None)
    if "albumartist" in changes:
        changes.setdefault("albumartists", [])
    if changes.keys() & ALBUM_FIELDS:
        changes.setdefault("mb_albumid", None)
        changes.update(albumartist_sort=None, mb_releasegroupid=None, mb_albumartistids=[])
    return tags.model_copy(update=changes)


class _NotALibraryFile(Exception):
    pass


def _plugin_failed(plugin: str, hook: str, exc: BaseException) -> None:
    log.warning("plugin %s failed in %s: %s", plugin, hook, exc)


def _ignored(host: PluginHost, root: str, path: str) -> bool:
    """Whether a walk of ``root`` passes ``path`` over: the ignore rules skip it or a folder on the way."""
    folder = root
    for name in os.path.relpath(path, root).split(os.sep):
        files, folders = _listing(folder)
        if name in ignored_by_plugins(host.dispatch, folder, files, folders, _plugin_failed):
            return True
        folder = os.path.join(folder, name)
    return False


def _listing(folder: str) -> tuple[list[str], list[str]]:
    """The names of a folder's files and subfolders, as a walk gives them to the ignore rules."""
    try:
        files, folders = entries_of(folder, follow_symlinks=False)
    except OSError:
        return [], []
    return [e.name for e in files], [e.name for e in folders]


def _library_file(host: PluginHost, roots: list[tuple[int, str]], path: str) -> tuple[FileStat, int]:
    """The file as a scan of its root lists it, and the root's id."""
    if not os.path.isabs(path):
        raise _NotALibraryFile("not an absolute path")
    real = os.path.realpath(path)  # roots are stored resolved, and a walk enters no symlink
    root = next(((i, p) for i, p in roots if real == p or real.startswith(p.rstrip("/") + "/")), None)
    if root is None:
        raise _NotALibraryFile("outside every library root")
    try:
        found = os.stat(real)
    except OSError as exc:
        raise _NotALibraryFile(exc.strerror or "cannot be read") from None
    if not stat.S_ISREG(found.st_mode):
        raise _NotALibraryFile("not a file")
    if not reading.worth_reading(real) or _ignored(host, root[1], real):
        raise _NotALibraryFile("not a file a scan would read")
    return FileStat(real, found.st_size, found.st_mtime_ns), root[0]


def _library_files(host: PluginHost, roots: list[tuple[int, str]], paths: list[str]) -> list[tuple[FileStat, int]]:
    found, problems = [], []
    for path in paths:
        try:
            found.append(_library_file(host, roots, path))
        except _NotALibraryFile as exc:
            problems.append(f"{path}: {exc}")
    if problems:
        raise BatchError(f"not audio files of the library: {'; '.join(problems)}")
    return found


async def _read(host: PluginHost, files: list[FileStat]) -> list[TagInfo]:
    outcomes = await asyncio.to_thread(reading.read_files, host, files)
    problems = [f"{o.file.path}: {o.error or o.not_audio}" for o in outcomes if o.tags is None]
    if problems:
        raise BatchError(f"unreadable audio files: {'; '.join(problems)}")
    return [o.tags for o in outcomes if o.tags is not None]


async def upsert_tracks(conn: AsyncConnection, items: Sequence[TrackIn], host: PluginHost) -> list[int]:
    """Tracks for these files, read now as a scan reads them (a file read again is due for its stages again)."""
    check_size(len(items))
    roots = [(r.id, r.path) for r in await conn.execute(select(Root.id, Root.path))]
    located = await asyncio.to_thread(_library_files, host, roots, [item.path for item in items])
    files = [file for file, _ in located]
    _repeated((f.path for f in files), "file")
    found = await _read(host, files)
    known, _ = await writer.known_in(conn, list({os.path.dirname(f.path) for f in files}))
    track_rows = [rows.track_row(file, _overlay(tags, item), root_id, None)
                  for (file, root_id), tags, item in zip(located, found, items, strict=True)]
    rows.adopt_folder_albums(track_rows)
    async with _transaction(conn):
        ids = await writer.write_tracks(conn, track_rows)
        await writer.forget_stages(conn, [known[f.path].id for f in files if f.path in known])
        await writer.forget_skipped(conn, [f.path for f in files])
    return [ids[f.path] for f in files]


@dataclass(slots=True)
class _Stored:
    """A track as the library holds it, in the shape the scanner wrote it from."""

    file: FileStat
    root_id: int
    scan_id: int | None
    features: dict | None
    album_key: str | None
    tags: TagInfo


# TagInfo fields a track row stores as read; the album's come from its row
_TRACK_TAGS = [name for name in TagInfo.model_fields if name in writer.TRACKS.c]
_ALBUM_TAGS = ["albumartist", "albumartist_sort", "original_date", "compilation", "label", "mb_albumid",
               "mb_releasegroupid"]


async def _grouped(conn: AsyncConnection, statement) -> dict[int, list]:
    """Rows of ``statement`` grouped by their first column."""
    groups: dict[int, list] = defaultdict(list)
    for row in await conn.execute(statement):
        groups[row[0]].append(row)
    return groups


def _all_or_none(values: list[str | None]) -> list[str]:
    return values if all(values) else []


def _tags_of(row, credits: list, album_artists: list, genres: list[str]) -> TagInfo:
    """What a tag reader would have to find for ``rows.track_row`` to give this stored track."""
    performers = [c for c in credits if c.role != "composer"]
    values = {name: row._mapping[name] for name in (*_TRACK_TAGS, *_ALBUM_TAGS, "album")}
    return TagInfo(**{**values, "compilation": bool(row.compilation)},
                   artists=[c.name for c in performers], artist_sort=performers[0].sort_name if performers else None,
                   mb_artistids=_all_or_none([c.mbid for c in performers]),
                   composers=[c.name for c in credits if c.role == "composer"],
                   albumartists=[a.name for a in album_artists],
                   mb_albumartistids=_all_or_none([a.mbid for a in album_artists]), genres=genres)


async def _stored(conn: AsyncConnection, ids: list[int]) -> dict[int, _Stored]:
    """The present (not missing) tracks among ``ids``."""
    t, a = writer.TRACKS, writer.ALBUMS
    found = await conn.execute(
        select(t.c.id, t.c.path, t.c.size, t.c.mtime_ns, t.c.root_id, t.c.scan_id, t.c.features,
               *[t.c[name] for name in _TRACK_TAGS], a.c.album_key, a.c.title.label("album"),
               *[a.c[name] for name in _ALBUM_TAGS])
        .outerjoin(a, a.c.id == t.c.album_id).where(t.c.id.in_(ids), t.c.missing.is_(False)))
    credits = await _grouped(conn, select(TrackArtist.track_id, TrackArtist.role, Artist.name, Artist.sort_name,
                                          Artist.mbid).join(Artist, Artist.id == TrackArtist.artist_id)
                             .where(TrackArtist.track_id.in_(ids)).order_by(TrackArtist.track_id, TrackArtist.position))
    album_artists = await _grouped(conn, select(t.c.id, Artist.name, Artist.mbid)
                                   .join(AlbumArtist, AlbumArtist.album_id == t.c.album_id)
                                   .join(Artist, Artist.id == AlbumArtist.artist_id)
                                   .where(t.c.id.in_(ids)).order_by(t.c.id, AlbumArtist.position))
    genres = await _grouped(conn, select(TrackGenre.track_id, Genre.name).join(Genre, Genre.id == TrackGenre.genre_id)
                            .where(TrackGenre.track_id.in_(ids), TrackGenre.source == "tags")
                            .order_by(TrackGenre.track_id, TrackGenre.position))
    stored = {}
    for row in found:
        tags = _tags_of(row, credits[row.id], album_artists[row.id], [g.name for g in genres[row.id]])
        stored[row.id] = _Stored(FileStat(row.path, row.size, row.mtime_ns), row.root_id, row.scan_id,
                                 row.features, row.album_key, tags)
    return stored


def _edited(stored: _Stored, edit: TrackEdit) -> rows.TrackRow:
    row = rows.track_row(stored.file, _overlay(stored.tags, edit), stored.root_id, stored.scan_id)
    row.track["features"] = stored.features  # the plugins' findings hold: the file did not change
    if stored.album_key and not edit.changes().keys() & ALBUM_FIELDS:
        row.album.album_key = stored.album_key  # the track stays in its album, whatever the rules would say now
    return row


async def update_tracks(conn: AsyncConnection, edits: Sequence[TrackEdit]) -> list[int]:
    """Edit present tracks by id; stage results stay (the files did not change)."""
    check_size(len(edits))
    ids = [edit.id for edit in edits]
    _repeated(ids, "track id")
    async with _transaction(conn):
        # a write first: it locks these tracks (and on SQLite begins the transaction) before they are read
        await conn.execute(update(writer.TRACKS).where(writer.TRACKS.c.id.in_(ids)).values(updated_at=func.now()))
        stored = await _stored(conn, ids)
        unknown = [track_id for track_id in ids if track_id not in stored]
        if unknown:
            raise BatchError(f"unknown or missing track ids: {', '.join(map(str, unknown))}")
        await writer.write_tracks(conn, [_edited(stored[edit.id], edit) for edit in edits])
        await refresh_search_text(conn, ids)  # with the genres and tags plugins gave, which the writer leaves out
    return ids
