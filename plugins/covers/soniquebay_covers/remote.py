"""Sources on the web: Cover Art Archive (by MusicBrainz id, or a MusicBrainz search), Last.fm.

Every request goes through ``web.WebClient`` (allowed hosts, per-host turns, cache, retries).
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from soniquebay_core.errors import PermanentPluginError
from soniquebay_core.schemas import AlbumSnapshot

from .found import Found
from .local import is_various
from .settings import CoverSettings
from .web import Verdict, WebClient

MIN_SEARCH_SCORE = 90  # MusicBrainz search scores go to 100; below this the match is a guess
LASTFM_SIZES = ("mega", "extralarge", "large", "")  # largest first; "" is what newer answers add
# Last.fm answers this grey star for artists it has no picture of (all of them since 2019)
LASTFM_PLACEHOLDERS = frozenset({"2a96cbd8b46e442fc41c2b86b821562f"})
LASTFM_MISSING = {6}  # "Album not found" / "The artist you supplied could not be found"
LASTFM_BUSY = {8, 11, 16, 29}  # operation failed, service offline, temporarily unavailable, rate limit
_LUCENE_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/])')


# -- Cover Art Archive ------------------------------------------------------------------------------

def coverartarchive(album: AlbumSnapshot, settings: CoverSettings, client: WebClient) -> Iterator[Found]:
    base = settings.coverartarchive_url.rstrip("/")
    listings = []
    if album.mb_albumid:
        listings.append(f"{base}/release/{album.mb_albumid}")
    if album.mb_releasegroupid:
        listings.append(f"{base}/release-group/{album.mb_releasegroupid}")
    if not listings and settings.musicbrainz_search:
        group = _release_group_by_search(album, settings, client)
        if group:
            listings.append(f"{base}/release-group/{group}")
    for url in listings:
        listing = client.json(url)
        image = _front_image(listing, settings.caa_size) if listing else None
        data = client.image(image) if image else None
        if data:
            yield Found(data, "coverartarchive")


def _front_image(listing: dict, size: int) -> str | None:
    """The front image's thumbnail of the wanted size (else the full image), approved ones first."""
    fronts = [i for i in listing.get("images", []) if i.get("front") or "Front" in (i.get("types") or [])]
    fronts.sort(key=lambda i: not i.get("approved", True))
    for image in fronts:
        thumbs = image.get("thumbnails") or {}
        url = thumbs.get(str(size)) or thumbs.get({250: "small", 500: "large"}.get(size, "")) or image.get("image")
        if url:
            return url
    return None


def _release_group_by_search(album: AlbumSnapshot, settings: CoverSettings, client: WebClient) -> str | None:
    """The release group of the best MusicBrainz match for title and album artist, when it is a sure one."""
    if not album.title or not album.albumartist:  # "Various Artists" is an artist on MusicBrainz
        return None
    query = f'release:"{_lucene(album.title)}" AND artist:"{_lucene(album.albumartist or "")}"'
    answer = client.json(f"{settings.musicbrainz_url.rstrip('/')}/ws/2/release/",
                         {"query": query, "fmt": "json", "limit": "5"})
    for release in (answer or {}).get("releases", []):
        group = (release.get("release-group") or {}).get("id")
        if int(release.get("score", 0)) >= MIN_SEARCH_SCORE and group:
            return group
    return None


def _lucene(text: str) -> str:
    return _LUCENE_SPECIAL.sub(r"\\\1", text)


# -- Last.fm -----------------------------------------------------------------------------------------

def lastfm_album(album: AlbumSnapshot, settings: CoverSettings, client: WebClient) -> Iterator[Found]:
    if not settings.lastfm_api_key or not album.albumartist:  # Last.fm lists compilations too
        return
    answer = _lastfm(settings, client, {"method": "album.getinfo", "artist": album.albumartist,
                                        "album": album.title, "autocorrect": "1"})
    url = _lastfm_image((answer or {}).get("album", {}))
    data = client.image(url) if url else None
    if data:
        yield Found(data, "lastfm")


def lastfm_artist(album: AlbumSnapshot, settings: CoverSettings, client: WebClient) -> Iterator[Found]:
    if not settings.lastfm_api_key or is_various(album.albumartist):
        return
    answer = _lastfm(settings, client, {"method": "artist.getinfo", "artist": album.albumartist,
                                        "autocorrect": "1"})
    url = _lastfm_image((answer or {}).get("artist", {}))
    data = client.image(url) if url else None
    if data:
        yield Found(data, "lastfm")


def _lastfm(settings: CoverSettings, client: WebClient, params: dict) -> dict | None:
    return client.json(f"{settings.lastfm_url.rstrip('/')}/2.0/",
                       {**params, "api_key": settings.lastfm_api_key, "format": "json"}, judge=_lastfm_verdict)


def _lastfm_verdict(answer: dict) -> Verdict:
    code = answer.get("error")
    if code in LASTFM_MISSING:
        return "missing"
    if code in LASTFM_BUSY:
        return "retry"
    if code is not None:  # a bad or suspended API key, a bad request: retrying will not help
        raise PermanentPluginError(f"Last.fm error {code}: {answer.get('message', '')}")
    return "found"


def _lastfm_image(entity: dict) -> str | None:
    by_size = {i.get("size", ""): i.get("#text") for i in entity.get("image", []) if i.get("#text")}
    for size in LASTFM_SIZES:
        url = by_size.get(size)
        if url and not any(name in url for name in LASTFM_PLACEHOLDERS):
            return url
    return None
