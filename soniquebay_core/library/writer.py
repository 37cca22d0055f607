"""The one place the scanner's findings are written to the library, a batch per transaction.

Every write is an upsert keyed on a natural key (path, folded name, album
key), so running a batch twice, or resuming a scan that was killed, writes
the same rows once. Each statement takes all of a batch's rows at once (on
SQLite as one JSON array, see ``insert_rows``): a handful per batch whatever
its size.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import (Table, and_, bindparam, delete, false, func, literal_column, or_, select, true,
                        union_all, update)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ..models import (
    Album,
    AlbumArtist,
    Artist,
    Genre,
    SkippedFile,
    Track,
    TrackArtist,
    TrackGenre,
    TrackStage,
)
from ..scanner.walk import FileStat
from ..search import search_text
from ..text import fold
from .rows import Credit, TrackRow

TRACKS: Table = Track.__table__  # type: ignore[assignment]
ALBUMS: Table = Album.__table__  # type: ignore[assignment]
ARTISTS: Table = Artist.__table__  # type: ignore[assignment]
GENRES: Table = Genre.__table__  # type: ignore[assignment]
SKIPPED: Table = SkippedFile.__table__  # type: ignore[assignment]

# Columns a rescan of a changed file may overwrite (identity and history stay; the revision is the trigger's).
_TRACK_REFRESH = [c.name for c in TRACKS.columns if c.name not in ("id", "first_scan_id", "added_at", "revision")]
_LINK_COLUMNS = ("album_id", "artist_id", "position")


@dataclass(slots=True)
class Known:
    """What the library holds for one path."""

    id: int
    size: int
    mtime_ns: int
    missing: bool = False


@dataclass(slots=True)
class Skipped:
    file: FileStat
    reason: str
    is_error: bool


def insert_for(conn: AsyncConnection, table: Table):
    """INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL share the API)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def insert_rows(conn: AsyncConnection, table: Table, columns: Sequence[str]):
    """An INSERT of many rows of ``columns`` (with ON CONFLICT support), executed with ``rows_parameter``.

    On SQLite the rows travel as one JSON array the statement reads back with
    ``json_each``, so SQLite runs one statement where executemany ran one per
    row. Each of those gave Python's GIL up and waited to get it back from the
    threads reading tags: a 10k-track scan took ~5% longer. PostgreSQL takes
    the rows as they are (executemany, which asyncpg pipelines). ``WHERE true``:
    SQLite needs a WHERE in an INSERT … SELECT before an ON CONFLICT clause.
    """
    stmt = insert_for(conn, table)
    if conn.dialect.name != "sqlite":
        return stmt
    value = literal_column("value")
    rows = select(*(func.json_extract(value, f"$.{c}") for c in columns)) \
        .select_from(func.json_each(bindparam("rows"))).where(true())
    return stmt.from_select(list(columns), rows)


def rows_parameter(conn: AsyncConnection, rows: list[dict]) -> list[dict] | dict[str, str]:
    """The rows for a statement of ``insert_rows``: as they are, or one JSON array on SQLite."""
    if conn.dialect.name != "sqlite":
        return rows
    return {"rows": json.dumps(rows, allow_nan=False, separators=(",", ":"))}


def _chunks(items: Sequence, size: int = 900) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


async def known_in(conn: AsyncConnection, folders: list[str]) -> tuple[dict[str, Known], dict[str, Known]]:
    """Tracks and skipped files the library knows in these folders, by path."""
    tracks: dict[str, Known] = {}
    skipped: dict[str, Known] = {}
    for part in _chunks(folders):
        for is_track, path, id_, size, mtime_ns, missing in (await conn.execute(_KNOWN_IN, {"folders": part})).all():
            if is_track:
                tracks[path] = Known(id_, size, mtime_ns, bool(missing))
            else:
                skipped[path] = Known(id_, size, mtime_ns)
    return tracks, skipped


def _known_in_statement():
    """Both kinds in one statement, built once: a rescan asks it for every batch, and building a statement
    and its cache key per call, a trip to SQLite's thread per kind, cost a 10k-track rescan ~0.05 s."""
    folders = bindparam("folders", expanding=True)
    return union_all(
        select(true().label("is_track"), TRACKS.c.path, TRACKS.c.id, TRACKS.c.size, TRACKS.c.mtime_ns,
               TRACKS.c.missing).where(TRACKS.c.folder.in_(folders)),
        select(false(), SKIPPED.c.path, SKIPPED.c.id, SKIPPED.c.size, SKIPPED.c.mtime_ns, false())
        .where(SKIPPED.c.folder.in_(folders)))


_KNOWN_IN = _known_in_statement()


async def ids_by_key(conn: AsyncConnection, table: Table, key_column: str, rows: dict[str, dict],
                      refresh: Sequence[str] = ()) -> dict[str, int]:
    """Upsert rows keyed by a unique column; return key → id.

    ``refresh`` columns take the new value when it is not null; others keep the first one written.
    """
    if not rows:
        return {}
    values = list(rows.values())
    stmt = insert_rows(conn, table, list(values[0]))
    if refresh:
        stmt = stmt.on_conflict_do_update(
            index_elements=[key_column],
            set_={c: func.coalesce(stmt.excluded[c], table.c[c]) for c in refresh})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=[key_column])
    await conn.execute(stmt, rows_parameter(conn, values))
    ids: dict[str, int] = {}
    keys = list(rows)
    for part in _chunks(keys):
        result = await conn.execute(select(table.c[key_column], table.c.id).where(table.c[key_column].in_(part)))
        ids.update(dict(result.all()))
    return ids


def artist_values(credits: Iterable[Credit], into: dict[str, dict]) -> None:
    for credit in credits:
        key = fold(credit.name)
        row = into.setdefault(key, {"name": credit.name, "name_key": key, "sort_name": None, "mbid": None})
        row["sort_name"] = row["sort_name"] or credit.sort_name
        row["mbid"] = row["mbid"] or credit.mbid


async def write_tracks(conn: AsyncConnection, rows: list[TrackRow]) -> dict[str, int]:
    """Upsert tracks with their albums, artists and genres; return path → track id."""
    if not rows:
        return {}
    artists: dict[str, dict] = {}
    albums: dict[str, dict] = {}
    genres: dict[str, dict] = {}
    for row in rows:
        artist_values(row.credits, artists)
        artist_values(row.album.artists, artists)
        albums.setdefault(row.album.album_key, row.album.values())
        for name in row.genres:
            genres.setdefault(fold(name), {"name": name, "name_key": fold(name)})

    artist_ids = await ids_by_key(conn, ARTISTS, "name_key", artists, refresh=("sort_name", "mbid"))
    album_ids = await ids_by_key(conn, ALBUMS, "album_key", albums, refresh=(
        "albumartist_sort", "year", "date", "original_date", "disc_total", "label", "mb_releasegroupid"))
    genre_ids = await ids_by_key(conn, GENRES, "name_key", genres)

    album_links = {(album_ids[r.album.album_key], artist_ids[fold(c.name)]): i
                   for r in rows for i, c in enumerate(r.album.artists)}
    if album_links:
        await conn.execute(insert_rows(conn, AlbumArtist.__table__, _LINK_COLUMNS).on_conflict_do_nothing(),
                           rows_parameter(conn, [{"album_id": a, "artist_id": b, "position": i}
                                                 for (a, b), i in album_links.items()]))

    values = [{**r.track, "album_id": album_ids[r.album.album_key],
               "search_text": search_text(r.track["title"], r.track["artist"], r.album.title, r.album.albumartist,
                                          lists=(r.genres,))} for r in rows]
    stmt = insert_rows(conn, TRACKS, list(values[0]))
    stmt = stmt.on_conflict_do_update(index_elements=["path"],
                                      set_={c: stmt.excluded[c] for c in _TRACK_REFRESH})
    # the upsert, then one select: RETURNING on an upsert makes SQLAlchemy send one row per statement
    await conn.execute(stmt, rows_parameter(conn, values))
    track_ids: dict[str, int] = {}
    for part in _chunks([r.track["path"] for r in rows]):
        track_ids.update((await conn.execute(select(TRACKS.c.path, TRACKS.c.id).where(TRACKS.c.path.in_(part)))).all())

    ids = list(track_ids.values())
    for part in _chunks(ids):
        await conn.execute(delete(TrackArtist).where(TrackArtist.track_id.in_(part)))
        await conn.execute(delete(TrackGenre).where(TrackGenre.track_id.in_(part), TrackGenre.source == "tags"))
    credits = {}
    genre_links = {}
    for row in rows:
        track_id = track_ids[row.track["path"]]
        for i, c in enumerate(row.credits):
            credits.setdefault((track_id, artist_ids[fold(c.name)], c.role), i)
        for i, name in enumerate(row.genres):
            genre_links.setdefault((track_id, genre_ids[fold(name)]), i)
    if credits:
        await conn.execute(insert_rows(conn, TrackArtist.__table__, ("track_id", "artist_id", "role", "position")),
                           rows_parameter(conn, [{"track_id": t, "artist_id": a, "role": role, "position": i}
                                                 for (t, a, role), i in credits.items()]))
    if genre_links:
        await conn.execute(insert_rows(conn, TrackGenre.__table__, ("track_id", "genre_id", "source", "position")),
                           rows_parameter(conn, [{"track_id": t, "genre_id": g, "source": "tags", "position": i}
                                                 for (t, g), i in genre_links.items()]))
    return track_ids


async def forget_stages(conn: AsyncConnection, track_ids: list[int]) -> None:
    """A changed file's earlier stage results no longer hold: its stages are due again."""
    for part in _chunks(track_ids):
        await conn.execute(delete(TrackStage).where(TrackStage.track_id.in_(part)))


async def write_skipped(conn: AsyncConnection, skipped: list[Skipped], scan_id: int) -> None:
    if not skipped:
        return
    stmt = insert_for(conn, SKIPPED)
    stmt = stmt.on_conflict_do_update(index_elements=["path"], set_={
        c: stmt.excluded[c] for c in ("folder", "size", "mtime_ns", "is_error", "reason", "scan_id")})
    await conn.execute(stmt, [
        {"path": s.file.path, "folder": s.file.path.rsplit("/", 1)[0], "size": s.file.size,
         "mtime_ns": s.file.mtime_ns, "is_error": s.is_error, "reason": s.reason, "scan_id": scan_id}
        for s in skipped])


async def forget_skipped(conn: AsyncConnection, paths: list[str]) -> None:
    for part in _chunks(paths):
        await conn.execute(delete(SKIPPED).where(SKIPPED.c.path.in_(part)))


async def set_missing(conn: AsyncConnection, track_ids: list[int], missing: bool) -> None:
    for part in _chunks(track_ids):
        await conn.execute(update(TRACKS).where(TRACKS.c.id.in_(part)).values(missing=missing))


def under(column, folder: str):
    """``column`` is ``folder`` or inside it: a range on the index, no LIKE escaping."""
    prefix = folder.rstrip("/") + "/"
    return or_(column == folder.rstrip("/"), and_(column >= prefix, column < prefix[:-1] + "0"))


async def folders_under(conn: AsyncConnection, top: str) -> list[str]:
    """Folders holding tracks or skipped files under ``top``."""
    result = await conn.execute(
        select(TRACKS.c.folder).where(under(TRACKS.c.folder, top)).distinct()
        .union(select(SKIPPED.c.folder).where(under(SKIPPED.c.folder, top)).distinct()))
    return [row[0] for row in result]


async def mark_folders_missing(conn: AsyncConnection, folders: list[str]) -> int:
    """Tracks in folders that are gone become missing; skipped-file memories there are dropped."""
    count = 0
    for part in _chunks(folders):
        result = await conn.execute(update(TRACKS).where(TRACKS.c.folder.in_(part), TRACKS.c.missing.is_(False))
                                    .values(missing=True))
        count += result.rowcount or 0
        await conn.execute(delete(SKIPPED).where(SKIPPED.c.folder.in_(part)))
    return count


async def reconcile_moves(conn: AsyncConnection, scan_id: int) -> list[tuple[int, int]]:
    """Pair each missing track with a track first seen in this scan that has the same size and mtime.

    The old row keeps its id (and with it every stage result, tag and vector):
    it takes the new row's path and the new row is deleted. Returns (kept id, dropped id) pairs.
    """
    old, new = TRACKS.alias("old"), TRACKS.alias("new")
    result = await conn.execute(
        select(old.c.id, new.c.id)
        .join(new, and_(new.c.size == old.c.size, new.c.mtime_ns == old.c.mtime_ns, new.c.id != old.c.id))
        .where(old.c.missing.is_(True), new.c.first_scan_id == scan_id, new.c.missing.is_(False),
               or_(old.c.first_scan_id.is_(None), old.c.first_scan_id != scan_id))
        .order_by(old.c.id, new.c.id))
    pairs: list[tuple[int, int]] = []
    used_old: set[int] = set()
    used_new: set[int] = set()
    for old_id, new_id in result:
        if old_id not in used_old and new_id not in used_new:
            used_old.add(old_id)
            used_new.add(new_id)
            pairs.append((old_id, new_id))
    moved_columns = ("root_id", "path", "folder", "scan_id", "album_id")
    for old_id, new_id in pairs:
        fresh = (await conn.execute(select(*[TRACKS.c[c] for c in moved_columns])
                                    .where(TRACKS.c.id == new_id))).one()
        await conn.execute(delete(TRACKS).where(TRACKS.c.id == new_id))
        await conn.execute(update(TRACKS).where(TRACKS.c.id == old_id)
                           .values(missing=False, **dict(zip(moved_columns, fresh, strict=True))))
    return pairs


async def delete_missing(conn: AsyncConnection, top: str) -> int:
    result = await conn.execute(delete(TRACKS).where(TRACKS.c.missing.is_(True), under(TRACKS.c.folder, top)))
    return result.rowcount or 0


async def delete_orphans(conn: AsyncConnection) -> None:
    """Albums without tracks, artists credited nowhere, genres on no track."""
    await conn.execute(delete(ALBUMS).where(~select(TRACKS.c.id).where(TRACKS.c.album_id == ALBUMS.c.id)
                                            .exists()))
    await conn.execute(delete(ARTISTS).where(
        ~select(TrackArtist.track_id).where(TrackArtist.artist_id == ARTISTS.c.id).exists(),
        ~select(AlbumArtist.album_id).where(AlbumArtist.artist_id == ARTISTS.c.id).exists()))
    await conn.execute(delete(GENRES).where(~select(TrackGenre.track_id).where(TrackGenre.genre_id == GENRES.c.id)
                                            .exists()))

