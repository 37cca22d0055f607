"""What a source offers: image bytes and where they came from, before any check."""
from __future__ import annotations

from typing import NamedTuple


class Found(NamedTuple):
    data: bytes
    source: str  # folder:cover.jpg, embedded:01 - Song.flac, coverartarchive, lastfm
