"""Full-text search over tracks: SQLite FTS5 or PostgreSQL text search, behind one function.

Every track carries ``search_text``: the folded (lower-case, accent-free) words
of its title, artists, album, album artist, genres and tags, written by the
core whenever one of them changes. SQLite indexes it with an FTS5 table kept in
step by triggers; PostgreSQL with a GIN index on ``to_tsvector('simple', …)``.
Queries are folded the same way and each word is a prefix ("bjo" finds
"Björk"), so typeahead and accent-insensitive search are one mechanism.
"""
from __future__ import annotations

import re

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from .models import Track
from .text import fold

_WORD = re.compile(r"\w+", re.UNICODE)

_SQLITE_DDL = (
    "CREATE VIRTUAL TABLE track_search USING fts5(search_text, content='tracks', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER track_search_insert AFTER INSERT ON tracks BEGIN "
    "INSERT INTO track_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER track_search_delete AFTER DELETE ON tracks BEGIN "
    "INSERT INTO track_search(track_search, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER track_search_update AFTER UPDATE OF search_text ON tracks "
    "WHEN old.search_text IS NOT new.search_text BEGIN "
    "INSERT INTO track_search(track_search, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO track_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO track_search(track_search) VALUES ('rebuild')",
)
_POSTGRES_DDL = ("CREATE INDEX ix_tracks_search ON tracks USING gin (to_tsvector('simple', search_text))",)
# names the schema comparison must ignore: they live outside the ORM models
EXTERNAL_NAMES = frozenset({"track_search", "ix_tracks_search"})


def search_index_ddl(dialect: str) -> tuple[str, ...]:
    return _SQLITE_DDL if dialect == "sqlite" else _POSTGRES_DDL


def search_index_drop(dialect: str) -> tuple[str, ...]:
    if dialect == "sqlite":
        return ("DROP TRIGGER IF EXISTS track_search_update", "DROP TRIGGER IF EXISTS track_search_delete",
                "DROP TRIGGER IF EXISTS track_search_insert", "DROP TABLE IF EXISTS track_search")
    return ("DROP INDEX IF EXISTS ix_tracks_search",)


def search_text(*parts: str | None, lists: tuple[list[str], ...] = ()) -> str:
    words = [p for p in parts if p] + [x for values in lists for x in values]
    return fold(" ".join(words))


def words_of(query: str) -> list[str]:
    return _WORD.findall(fold(query))


def ranked_ids(dialect: str, query: str):
    """A select of (track id, rank) for tracks matching every word of ``query`` as a prefix; best first.

    None when the query has no words.
    """
    words = words_of(query)
    if not words:
        return None
    if dialect == "sqlite":
        match = " ".join(f'"{w}"*' for w in words)
        return select(literal_column("rowid").label("id"), literal_column("bm25(track_search)").label("rank"))\
            .select_from(text("track_search")).where(text("track_search MATCH :match").bindparams(match=match))
    tsquery = " & ".join(f"{w}:*" for w in words)
    vector = func.to_tsvector("simple", Track.search_text)
    query_ts = func.to_tsquery("simple", tsquery)
    return select(Track.id.label("id"), (-func.ts_rank(vector, query_ts)).label("rank"))\
        .where(vector.op("@@")(query_ts))


async def refresh_search_text(conn: AsyncConnection, track_ids: list[int]) -> None:
    """Recompute ``search_text`` from what the library holds now (after genres or tags changed)."""
    from collections import defaultdict

    from sqlalchemy import update

    from .models import Album, Genre, Tag, TrackGenre, TrackTag

    extra: dict[int, list[str]] = defaultdict(list)
    for model, link, column in ((Genre, TrackGenre, TrackGenre.genre_id), (Tag, TrackTag, TrackTag.tag_id)):
        rows = await conn.execute(select(link.track_id, model.name).join(model, model.id == column)
                                  .where(link.track_id.in_(track_ids)))
        for track_id, name in rows:
            extra[track_id].append(name)
    rows = await conn.execute(select(Track.id, Track.title, Track.artist, Album.title, Album.albumartist)
                              .outerjoin(Album, Album.id == Track.album_id).where(Track.id.in_(track_ids)))
    for track_id, title, artist, album, albumartist in rows.all():
        await conn.execute(update(Track).where(Track.id == track_id).values(
            search_text=search_text(title, artist, album, albumartist, lists=(extra[track_id],))))


def fuse(*rankings: list[int], k: int = 60) -> list[int]:
    """Reciprocal-rank fusion: ids ranked well in several lists come first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for position, track_id in enumerate(ranking):
            scores[track_id] = scores.get(track_id, 0.0) + 1.0 / (k + position + 1)
    return sorted(scores, key=lambda t: (-scores[t], t))
