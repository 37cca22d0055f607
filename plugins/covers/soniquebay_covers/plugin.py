"""The ``covers`` plugin: an album's cover (and its artist's image) from files, then the web.

Sources are tried in the configured order (``sources``, ``artist_sources``); each offers
candidates best first and the first that is a real image, at least ``min_size`` pixels on
its short side and no further from square than ``max_aspect``, wins. A web source that
fails for a while (``TransientPluginError``) does not stop the others; when nobody else has
a cover, the failure is raised so that the core tries the album again later.

The answer is an ``AlbumArt``: the cover, plus the album artist's image when one is found
(the core stores it for the album's first album artist). The core stores both and
pre-renders their thumbnails.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from soniquebay_core import PluginManifest, hookimpl
from soniquebay_core.covers_store import InvalidImage, check, inspect
from soniquebay_core.errors import TransientPluginError
from soniquebay_core.manifest import NetworkHost
from soniquebay_core.schemas import AlbumArt, AlbumSnapshot, CoverCandidate

from . import __version__, local
from .found import Found
from .settings import WEB_SOURCES, CoverSettings, settings_from

log = logging.getLogger("soniquebay.covers")

MANIFEST = PluginManifest(
    id="covers",
    version=__version__,
    description="Album covers and artist images: folder images, embedded pictures, Cover Art Archive, Last.fm.",
    resource_class="light",
    max_concurrency=4,
    timeout_s=180,  # web lookups wait for their host's turn and retry quickly before giving up
    retries=3,
    retry_backoff_s=900,  # a web service that failed three quick tries: come back in 15 min, 30, 60
    min_interval_ms=0,  # per host, inside the plugin: local covers never wait (see web.py)
    network_hosts=(
        NetworkHost(host="coverartarchive.org", reason="front covers by MusicBrainz release (group) id"),
        NetworkHost(host="archive.org", reason="Cover Art Archive images are served from archive.org"),
        NetworkHost(host="musicbrainz.org", reason="finding the release of an album without MusicBrainz ids"),
        NetworkHost(host="ws.audioscrobbler.com", reason="Last.fm album.getInfo and artist.getInfo (API key needed)"),
        NetworkHost(host="lastfm.freetls.fastly.net", reason="Last.fm images"),
    ),
)

Source = Callable[[AlbumSnapshot, CoverSettings], Iterator[Found]]


def web_source(name: str) -> Source:
    """``remote.<name>`` with the shared client, imported on first use: every process
    loads this module (the CLI too) and httpx alone costs ~0.1 s of start-up."""
    def source(album: AlbumSnapshot, settings: CoverSettings) -> Iterator[Found]:
        from . import remote
        from .web import client_for

        return getattr(remote, name)(album, settings, client_for(settings))
    return source


ALBUM_SOURCES: dict[str, Source] = {
    "folder": lambda album, _: local.folder_covers(album),
    "embedded": lambda album, _: local.embedded_covers(album),
    "coverartarchive": web_source("coverartarchive"),
    "lastfm": web_source("lastfm_album"),
}
ARTIST_SOURCES: dict[str, Source] = {
    "folder": lambda album, _: local.folder_artist_images(album),
    "lastfm": web_source("lastfm_artist"),
}


@hookimpl
def fetch_cover(album: AlbumSnapshot, config: dict) -> AlbumArt | None:
    settings = settings_from(config)
    cover = first_good(album, settings, settings.sources, ALBUM_SOURCES, settings.max_aspect)
    if cover is None:
        return None
    artist = None
    if settings.artist_images:
        try:
            artist = first_good(album, settings, settings.artist_sources, ARTIST_SOURCES, None)
        except TransientPluginError as exc:  # the cover is worth keeping now; the image can wait for a rerun
            log.info("no artist image for album %s this time: %s", album.id, exc)
    return AlbumArt(**cover.model_dump(), artist_image=artist)


def first_good(album: AlbumSnapshot, settings: CoverSettings, order: tuple[str, ...], sources: dict[str, Source],
               max_aspect: float | None) -> CoverCandidate | None:
    """The first candidate, in source order, that passes the checks; see the module doc."""
    failure: TransientPluginError | None = None
    for name in order:
        if name in WEB_SOURCES and not settings.network:
            continue
        try:
            for found in sources[name](album, settings):
                try:
                    info = inspect(found.data)
                    check(info, settings.min_size, max_aspect)
                except InvalidImage as exc:
                    log.info("album %s: %s image passed over: %s", album.id, found.source, exc)
                    continue
                return CoverCandidate(data=found.data, mime=info.mime, source=found.source)
        except TransientPluginError as exc:
            log.info("album %s: %s unavailable: %s", album.id, name, exc)
            failure = failure or exc
    if failure is not None:
        raise failure
    return None
