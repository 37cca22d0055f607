"""The library schema (SQLAlchemy 2, shared by SQLite and PostgreSQL).

Names and keys: every entity found by name (artist, genre, tag, album) has a
``*_key`` column holding the folded name (see ``text.fold``) with a unique
index, so that "Björk", "BJÖRK" and "Bjork" are one artist whatever the
backend's collation. Paths are compared byte-wise (collation "C" on
PostgreSQL) so that folder-prefix range queries behave the same everywhere.

Stage state lives in ``track_stages``: one row per (track, plugin, stage)
that has run. Pending work is the absence of a ``done`` row at the plugin's
current version, so installing a plugin later needs no back-fill.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PathText = Text().with_variant(Text(collation="C"), "postgresql")
Json = JSON().with_variant(JSONB(), "postgresql")


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Root(Base):
    """A library folder given to ``scan``; every track lives under one."""

    __tablename__ = "roots"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(PathText, unique=True)
    added_at: Mapped[datetime] = _now()


class Artist(Base):
    __tablename__ = "artists"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text, unique=True)
    sort_name: Mapped[str | None] = mapped_column(Text)
    mbid: Mapped[str | None] = mapped_column(String(36), index=True)
    added_at: Mapped[datetime] = _now()


class Cover(Base):
    """One stored image, deduplicated by content hash; files live in the data dir."""

    __tablename__ = "covers"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    mime: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    file: Mapped[str] = mapped_column(Text, doc="path relative to the data dir")
    added_at: Mapped[datetime] = _now()


class ArtistImage(Base):
    """An artist's picture, stored like album covers (a table of its own, so adding it altered no table)."""

    __tablename__ = "artist_images"
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True)
    cover_id: Mapped[int] = mapped_column(ForeignKey("covers.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = _now()


class Album(Base):
    __tablename__ = "albums"
    id: Mapped[int] = mapped_column(primary_key=True)
    album_key: Mapped[str] = mapped_column(Text, unique=True, doc="identity: MusicBrainz id, or artist+title")
    title: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str] = mapped_column(Text, index=True)
    albumartist: Mapped[str | None] = mapped_column(Text, doc="display album artist")
    albumartist_sort: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    date: Mapped[str | None] = mapped_column(String(32))
    original_date: Mapped[str | None] = mapped_column(String(32))
    compilation: Mapped[bool] = mapped_column(Boolean, default=False)
    disc_total: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[str | None] = mapped_column(Text)
    mb_albumid: Mapped[str | None] = mapped_column(String(36), index=True)
    mb_releasegroupid: Mapped[str | None] = mapped_column(String(36))
    cover_id: Mapped[int | None] = mapped_column(ForeignKey("covers.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = _now()


class AlbumArtist(Base):
    __tablename__ = "album_artists"
    album_id: Mapped[int] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Track(Base):
    __tablename__ = "tracks"
    # Indexes cost every scan a B-tree update per row: only what lookups need. Substring
    # matches on *_key columns cannot use an index anyway (full-text search comes with the API).
    id: Mapped[int] = mapped_column(primary_key=True)
    # where the file is, and what it was when last read
    root_id: Mapped[int] = mapped_column(ForeignKey("roots.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(PathText, unique=True)
    folder: Mapped[str] = mapped_column(PathText, index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    missing: Mapped[bool] = mapped_column(Boolean, default=False)
    first_scan_id: Mapped[int | None] = mapped_column(Integer)
    scan_id: Mapped[int | None] = mapped_column(Integer, doc="last scan that read the file")
    # stream
    format: Mapped[str] = mapped_column(String(16))
    codec: Mapped[str | None] = mapped_column(String(32))
    bitrate: Mapped[int | None] = mapped_column(Integer)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int | None] = mapped_column(Integer)
    bits_per_sample: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    # tags
    title: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str] = mapped_column(Text)
    artist: Mapped[str | None] = mapped_column(Text, doc="display artist")
    artist_key: Mapped[str | None] = mapped_column(Text)
    album_id: Mapped[int | None] = mapped_column(ForeignKey("albums.id", ondelete="SET NULL"), index=True)
    track_number: Mapped[int | None] = mapped_column(Integer)
    track_total: Mapped[int | None] = mapped_column(Integer)
    disc_number: Mapped[int | None] = mapped_column(Integer)
    disc_total: Mapped[int | None] = mapped_column(Integer)
    date: Mapped[str | None] = mapped_column(String(32))
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    isrc: Mapped[str | None] = mapped_column(String(16))
    mb_trackid: Mapped[str | None] = mapped_column(String(36))
    mb_releasetrackid: Mapped[str | None] = mapped_column(String(36))
    replaygain_track_gain: Mapped[float | None] = mapped_column(Float)
    replaygain_track_peak: Mapped[float | None] = mapped_column(Float)
    replaygain_album_gain: Mapped[float | None] = mapped_column(Float)
    replaygain_album_peak: Mapped[float | None] = mapped_column(Float)
    has_embedded_cover: Mapped[bool] = mapped_column(Boolean, default=False)
    # analysis (tags first; enrichment plugins may refine)
    bpm: Mapped[float | None] = mapped_column(Float)
    key: Mapped[str | None] = mapped_column(String(16))
    features: Mapped[dict | None] = mapped_column(Json)
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="",
                                             doc="folded title, artists, album, genres and tags: what search indexes")
    added_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())
    revision: Mapped[int] = mapped_column(Integer, server_default="0",
                                          doc="raised by a trigger on every change of the row (library/revisions.py)")
    # the track list's sorts and filters (lists keep missing = false rows; see migration 0003)
    __table_args__ = tuple(Index(f"ix_tracks_missing_{column}", "missing", column)
                           for column in ("title_key", "artist_key", "year", "bpm", "key", "format"))


class TrackArtist(Base):
    """Who performs a track: ``main`` artists, ``featuring`` guests, ``composer``."""

    __tablename__ = "track_artists"
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Genre(Base):
    __tablename__ = "genres"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text, unique=True)


class TrackGenre(Base):
    """A track's genres; ``source`` is ``tags`` for the file's own, else the plugin id."""

    __tablename__ = "track_genres"
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    genre_id: Mapped[int] = mapped_column(ForeignKey("genres.id", ondelete="CASCADE"), primary_key=True,
                                          index=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Tag(Base):
    """Free tags (moods, styles, Last.fm tags)."""

    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text, unique=True)


class TrackTag(Base):
    __tablename__ = "track_tags"
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0)


class TrackStage(Base):
    """That a plugin's stage ran on a track: with which version, and how it ended."""

    __tablename__ = "track_stages"
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    plugin: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), doc="done | failed | retry")
    plugin_version: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    track_revision: Mapped[int | None] = mapped_column(
        Integer, doc="the track's revision the job's snapshot was read at (track stages); see stages.py")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())

    __table_args__ = (Index("ix_track_stages_plugin_stage_status", "plugin", "stage", "status"),)


class TrackEmbedding(Base):
    """A track's vector from one model (float32, little-endian); a model change means a new row."""

    __tablename__ = "track_embeddings"
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(128), primary_key=True)
    dims: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    input_hash: Mapped[str | None] = mapped_column(String(64), doc="hash of what was embedded: same input, same vector")
    added_at: Mapped[datetime] = _now()


class SkippedFile(Base):
    """A file the scanner looked at and did not turn into a track, remembered by (size, mtime)
    so an unchanged one is not read again: broken audio (``is_error``) or not audio at all."""

    __tablename__ = "skipped_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(PathText, unique=True)
    folder: Mapped[str] = mapped_column(PathText, index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    is_error: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    scan_id: Mapped[int | None] = mapped_column(Integer)


class FolderState(Base):
    """What the last scan saw in one folder: its listing's digest and how many tracks it holds. Dropped by
    triggers whenever a track or skipped file of the folder changes (see ``library/folder_states.py``)."""

    __tablename__ = "folder_states"
    folder: Mapped[str] = mapped_column(PathText, primary_key=True)
    digest: Mapped[str] = mapped_column(String(32))
    tracks: Mapped[int] = mapped_column(Integer)


class PluginError(Base):
    """A plugin raised while the core called it outside a job (e.g. ``on_file_discovered``)."""

    __tablename__ = "plugin_errors"
    id: Mapped[int] = mapped_column(primary_key=True)
    plugin: Mapped[str] = mapped_column(String(64), index=True)
    hook: Mapped[str] = mapped_column(String(64))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id", ondelete="SET NULL"))
    path: Mapped[str | None] = mapped_column(PathText)
    error: Mapped[str] = mapped_column(Text)
    scan_id: Mapped[int | None] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = _now()


class Scan(Base):
    __tablename__ = "scans"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), doc="running | completed | failed | interrupted")
    paths: Mapped[list] = mapped_column(Json)
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = _now()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counts: Mapped[dict | None] = mapped_column(Json)
    error: Mapped[str | None] = mapped_column(Text)


class Setting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[dict | list | str | int | float | bool | None] = mapped_column(Json)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16), doc="admin | reader")
    added_at: Mapped[datetime] = _now()


class ApiToken(Base):
    """A bearer token for automation (or a web session): only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), doc="api | session")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    added_at: Mapped[datetime] = _now()


class Playlist(Base):
    __tablename__ = "playlists"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class PlaylistTrack(Base):
    __tablename__ = "playlist_tracks"
    playlist_id: Mapped[int] = mapped_column(ForeignKey("playlists.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)


class PlayQueueItem(Base):
    """A user's play queue, kept on the server so it survives a reload."""

    __tablename__ = "play_queue"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
