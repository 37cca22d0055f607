"""The plugin's settings: the ``[plugins.covers]`` block, checked once, with defaults that need no network."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from soniquebay_core.errors import PermanentPluginError

AlbumSource = Literal["folder", "embedded", "coverartarchive", "lastfm"]
ArtistSource = Literal["folder", "lastfm"]
WEB_SOURCES = frozenset({"coverartarchive", "lastfm"})


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "soniquebay" / "covers"


class CoverSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool | None = None  # the core's switch; read by the plugin host, not here
    sources: tuple[AlbumSource, ...] = ("folder", "embedded", "coverartarchive", "lastfm")
    artist_sources: tuple[ArtistSource, ...] = ("folder", "lastfm")
    artist_images: bool = True
    # what counts as a cover
    min_size: int = Field(64, ge=1, description="smallest side, in pixels (the smallest thumbnail is 64)")
    max_aspect: float = Field(1.6, ge=1.0, description="long side over short side")
    # the web: nothing is sent anywhere unless network = true
    network: bool = False
    coverartarchive_url: str = "https://coverartarchive.org"
    musicbrainz_url: str = "https://musicbrainz.org"
    lastfm_url: str = "https://ws.audioscrobbler.com"
    lastfm_api_key: str | None = None
    musicbrainz_search: bool = Field(True, description="find a release by title and artist when untagged")
    caa_size: Literal[250, 500, 1200] = 500
    image_hosts: tuple[str, ...] = ("archive.org", "lastfm.freetls.fastly.net")
    min_interval_ms: dict[str, int] = Field(default_factory=lambda: {
        "musicbrainz.org": 1000, "coverartarchive.org": 250, "archive.org": 100, "ws.audioscrobbler.com": 250})
    default_interval_ms: int = Field(100, ge=0, description="for hosts min_interval_ms does not name")
    timeout_s: float = Field(15, gt=0)
    retries: int = Field(2, ge=0, description="quick retries of one request before the core's own retry later")
    backoff_s: float = Field(1.0, ge=0)
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    cache_days: float = Field(30, ge=0, description="how long a found answer is reused")
    not_found_days: float = Field(7, ge=0, description="how long a 'not found' is believed")
    contact: str = Field("https://github.com/soniquebay", description="in the User-Agent, as MusicBrainz asks")

    def interval_s(self, host: str) -> float:
        for name, ms in self.min_interval_ms.items():
            if host == name or host.endswith("." + name):
                return ms / 1000
        return self.default_interval_ms / 1000


def settings_from(config: dict) -> CoverSettings:
    return _parsed(json.dumps(config, sort_keys=True, default=str))


@lru_cache(maxsize=8)
def _parsed(key: str) -> CoverSettings:
    try:
        return CoverSettings.model_validate(json.loads(key))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PermanentPluginError(f"[plugins.covers] {where}: {first['msg']}") from None
