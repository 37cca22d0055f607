"""Plain data that crosses the plugin boundary.

Plugins never see ORM objects or sessions: they receive snapshots and return
these models; only the core writes to the database. Every model forbids
unknown fields so a misspelt key in a plugin's answer fails loudly instead of
being silently dropped.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TagInfo(_Data):
    """What a tag reader found in one audio file (answer of ``read_tags``).

    Lists hold every value of a multi-valued tag in file order. ``None`` means
    "not present in the file"; the scanner fills what it can (title from the
    file name, album from the folder) when tags are missing. Numbers are finite
    (a NaN gain or duration is no value, and the library's writer refuses it).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    format: str = Field(description="container/extension family: mp3, flac, ogg, opus, m4a, wma, …")
    codec: str | None = None
    duration: float | None = None
    bitrate: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    bits_per_sample: int | None = None

    title: str | None = None
    artist: str | None = Field(None, description="display artist, e.g. 'A feat. B'")
    artists: list[str] = Field(default_factory=list, description="individual performing artists")
    artist_sort: str | None = None
    albumartist: str | None = None
    albumartists: list[str] = Field(default_factory=list)
    albumartist_sort: str | None = None
    album: str | None = None
    composers: list[str] = Field(default_factory=list)
    genres: list[str] = Field(default_factory=list)
    track_number: int | None = None
    track_total: int | None = None
    disc_number: int | None = None
    disc_total: int | None = None
    date: str | None = Field(None, description="as tagged, possibly partial: '1999', '1999-05', '1999-05-01'")
    year: int | None = None
    original_date: str | None = None
    compilation: bool = False
    label: str | None = None
    isrc: str | None = None
    bpm: float | None = None
    key: str | None = None

    mb_trackid: str | None = Field(None, description="MusicBrainz recording id")
    mb_releasetrackid: str | None = None
    mb_albumid: str | None = None
    mb_releasegroupid: str | None = None
    mb_artistids: list[str] = Field(default_factory=list)
    mb_albumartistids: list[str] = Field(default_factory=list)

    replaygain_track_gain: float | None = None
    replaygain_track_peak: float | None = None
    replaygain_album_gain: float | None = None
    replaygain_album_peak: float | None = None

    has_embedded_cover: bool = False

    # A scan holds ~1,500 answers of tag readers at once, most sent over from worker processes.
    # Readers give every field, so the set of given fields (2 KB an answer) is sent as None
    # when it holds them all, and all answers share one set on arrival.
    def __getstate__(self) -> dict:
        state = super().__getstate__()
        if len(state["__pydantic_fields_set__"]) == len(_TAG_FIELDS):
            state["__pydantic_fields_set__"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        if state["__pydantic_fields_set__"] is None:
            state["__pydantic_fields_set__"] = _TAG_FIELDS
        super().__setstate__(state)


_TAG_FIELDS = set(TagInfo.model_fields)


StageStatus = Literal["done", "failed", "skipped"]


class TrackSnapshot(_Data):
    """A read-only view of one track as stored, handed to stage hooks."""

    id: int
    path: str
    format: str
    codec: str | None = None
    duration: float | None = None
    bitrate: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    title: str
    artist: str | None = None
    artists: list[str] = Field(default_factory=list)
    album_id: int | None = None
    album: str | None = None
    albumartist: str | None = None
    track_number: int | None = None
    disc_number: int | None = None
    year: int | None = None
    date: str | None = None
    genres: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    mb_trackid: str | None = None
    mb_albumid: str | None = None
    bpm: float | None = None
    key: str | None = None
    features: dict[str, float | str | bool | None] = Field(default_factory=dict)
    has_embedded_cover: bool = False
    embedding_hashes: dict[str, str] = Field(default_factory=dict, description="for ``vectorize`` only: "
                                             "model → input hash of the track's stored vectors")


class TagWeight(_Data):
    name: str
    weight: float = 1.0


class TrackPatch(_Data):
    """What an ``enrich_track`` implementation found; ``None`` fields are left as they are.

    ``genres`` and ``tags`` are this plugin's contribution: they replace what the
    same plugin contributed before and never touch other sources' values.
    """

    bpm: float | None = None
    key: str | None = None
    features: dict[str, float | str | bool | None] | None = None
    genres: list[str] | None = None
    tags: list[TagWeight] | None = None


class AlbumSnapshot(_Data):
    """A read-only view of one album, handed to ``fetch_cover``."""

    id: int
    title: str
    albumartist: str | None = None
    year: int | None = None
    mb_albumid: str | None = None
    mb_releasegroupid: str | None = None
    folders: list[str] = Field(default_factory=list, description="folders holding the album's files")
    track_paths: list[str] = Field(default_factory=list)


class CoverCandidate(_Data):
    """An image for an album: raw bytes plus where they came from."""

    data: bytes
    mime: str
    source: str = Field(description="e.g. 'embedded', 'folder:cover.jpg', 'coverartarchive'")


class Embedding(_Data):
    """A vector for a track (or a search text), tagged with the model that made it."""

    model: str
    vector: list[float] = Field(min_length=1)
    input_hash: str | None = Field(None, max_length=64, description="hash of what was embedded (model included): "
                                   "the runner hands it back in ``TrackSnapshot.embedding_hashes`` so an "
                                   "unchanged track is not embedded again")


class AlbumArt(CoverCandidate):
    """A cover that also brings the album artist's image (``fetch_cover`` may answer with either).

    It is a ``CoverCandidate``, so the pipeline treats it as one; the core stores
    ``artist_image`` for the album's first album artist (``artist_images``).
    """

    artist_image: CoverCandidate | None = None
