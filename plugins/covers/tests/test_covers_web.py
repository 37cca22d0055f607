"""Web sources against a local fake server replaying recorded Cover Art Archive, MusicBrainz and Last.fm answers:
lookups, caching (not found included, with expiry), quick retries with backoff, per-host turns, allowed hosts,
and no network at all when it is off."""
from __future__ import annotations

import io
import itertools
import time

import pytest
from covers_fakeweb import RECORDED, FakeWeb
from covers_testing import fetch
from PIL import Image

from soniquebay_core.errors import PermanentPluginError, TransientPluginError
from soniquebay_core.schemas import AlbumSnapshot

RELEASE = "3c1f0c1e-2c5b-4b5e-9f51-6d3f1b0a7e21"
GROUP = "f7e0d8b2-5a41-4c3e-8b6d-2f9a1c0e7b34"
CAA_FRONT = (RECORDED / "caa-front-500.jpg").read_bytes()
LASTFM_ALBUM = (RECORDED / "lastfm-album-300.png").read_bytes()
LASTFM_ARTIST = (RECORDED / "lastfm-artist-300.jpg").read_bytes()


@pytest.fixture
def web():
    with FakeWeb() as fake:
        yield fake


def _album(tmp_path, **fields) -> AlbumSnapshot:
    """An album with no art of its own: an empty folder."""
    folder = tmp_path / "music" / "The Lanterns" / "Quiet Machines (2009)"
    folder.mkdir(parents=True, exist_ok=True)
    return AlbumSnapshot(**{"id": 7, "title": "Quiet Machines", "albumartist": "The Lanterns",
                            "folders": [str(folder)], **fields})


def _config(web: FakeWeb, tmp_path, cache: str = "cache", **more) -> dict:
    """Artist images off unless a test asks: they add Last.fm requests of their own."""
    return web.config(tmp_path / cache, **{"artist_images": False, **more})


def test_cover_art_archive_by_release_id(web, tmp_path):
    art = fetch(_album(tmp_path, mb_albumid=RELEASE), **_config(web, tmp_path, sources=["coverartarchive"]))
    assert art.data == CAA_FRONT and art.source == "coverartarchive" and art.mime == "image/jpeg"
    # the listing, the 500 px front thumbnail, then archive.org where Cover Art Archive redirects
    assert web.paths() == [f"/caa/release/{RELEASE}", f"/caa/release/{RELEASE}/24739411213-500.jpg",
                           f"/ia/download/mbid-{RELEASE}/mbid-{RELEASE}-24739411213_thumb500.jpg"]
    assert fetch(_album(tmp_path, mb_albumid=RELEASE),
                 **_config(web, tmp_path, sources=["coverartarchive"], caa_size=1200)).data == CAA_FRONT
    assert web.paths()[-2] == f"/caa/release/{RELEASE}/24739411213-1200.jpg"


def test_release_group_then_musicbrainz_search(web, tmp_path):
    web.missing.add(RELEASE)
    config = _config(web, tmp_path, sources=["coverartarchive"])
    art = fetch(_album(tmp_path, mb_albumid=RELEASE, mb_releasegroupid=GROUP), **config)
    assert art.data == CAA_FRONT
    assert web.paths("/caa/release")[:2] == [f"/caa/release/{RELEASE}", f"/caa/release-group/{GROUP}"]

    # no ids at all: MusicBrainz is searched by title and album artist; a sure match's release group is used
    web.requests.clear()
    config = _config(web, tmp_path, cache="another", sources=["coverartarchive"])
    assert fetch(_album(tmp_path), **config).data == CAA_FRONT
    search = web.requests[0]
    assert search.path == "/mb/ws/2/release/" and search.params["fmt"] == "json"
    assert search.params["query"] == 'release:"Quiet Machines" AND artist:"The Lanterns"'
    assert web.paths("/caa/release-group/") == [f"/caa/release-group/{GROUP}"]

    # a weak match is no match; and searching can be switched off
    web.search, web.requests[:] = "musicbrainz-release-search-weak.json", []
    assert fetch(_album(tmp_path, title="Quiet Machines Live"), **config) is None
    assert web.paths("/caa/") == []
    web.requests.clear()
    assert fetch(_album(tmp_path, title="Other"), **config, musicbrainz_search=False) is None
    assert web.requests == []


def test_lastfm_album_and_artist_images(web, tmp_path):
    web.missing.add(RELEASE)
    art = fetch(_album(tmp_path, mb_albumid=RELEASE), **_config(web, tmp_path, artist_images=True))
    assert art.data == LASTFM_ALBUM and art.source == "lastfm" and art.mime == "image/png"
    assert art.artist_image.data == LASTFM_ARTIST and art.artist_image.source == "lastfm"
    album_call = next(r for r in web.requests if r.params.get("method") == "album.getinfo")
    assert album_call.params == {"method": "album.getinfo", "artist": "The Lanterns", "album": "Quiet Machines",
                                 "autocorrect": "1", "api_key": "0123456789abcdef0123456789abcdef",
                                 "format": "json"}
    assert "/lastfm-img/i/u/300x300/7f2c9d1e4b8a4c6f9e0d3b5a1c7e2f48.png" in web.paths()  # the largest size

    # Last.fm's grey star is not a picture of anyone
    web.lastfm_artists["Nobody Famous"] = "lastfm-artist-placeholder.json"
    art = fetch(_album(tmp_path, albumartist="Nobody Famous", mb_albumid=RELEASE),
                **_config(web, tmp_path, artist_images=True))
    assert art.data == LASTFM_ALBUM and art.artist_image is None
    assert not any("2a96cbd8b46e442fc41c2b86b821562f" in p for p in web.paths())

    # without an API key Last.fm is never asked
    web.requests.clear()
    assert fetch(_album(tmp_path, mb_albumid=RELEASE), **_config(web, tmp_path, lastfm_api_key=None)) is None
    assert web.paths("/lastfm") == []


def test_not_found_is_cached_until_it_expires(web, tmp_path):
    web.missing.add(RELEASE)
    web.lastfm_album = "lastfm-album-not-found.json"
    album = _album(tmp_path, mb_albumid=RELEASE)
    config = _config(web, tmp_path, not_found_days=0.3 / 86400)  # 0.3 s
    assert fetch(album, **config) is None
    asked = len(web.requests)
    assert asked == 2  # Cover Art Archive's 404 and Last.fm's "Album not found" (error 6 in a 200 answer)
    assert fetch(album, **config) is None
    assert len(web.requests) == asked  # both remembered
    time.sleep(0.35)
    assert fetch(album, **config) is None
    assert len(web.requests) == 2 * asked  # expired: asked again


def test_found_answers_are_cached(web, tmp_path):
    config = _config(web, tmp_path, sources=["coverartarchive"])
    fetch(_album(tmp_path, mb_albumid=RELEASE), **config)
    fetch(_album(tmp_path, mb_albumid=RELEASE), **config)
    assert web.paths().count(f"/caa/release/{RELEASE}") == 1  # the listing once; the image each time
    assert len(web.paths("/ia/")) == 2


def test_quick_retries_with_backoff_then_the_core_retries(web, tmp_path):
    web.failures[f"/caa/release/{RELEASE}"] = [503, 502]
    started = time.monotonic()
    art = fetch(_album(tmp_path, mb_albumid=RELEASE), **_config(web, tmp_path, sources=["coverartarchive"],
                                                                 retries=2, backoff_s=0.1))
    assert art.data == CAA_FRONT and time.monotonic() - started >= 0.3  # waited 0.1 s, then 0.2 s
    assert web.paths().count(f"/caa/release/{RELEASE}") == 3

    web.failures["/caa/"] = [503] * 10
    with pytest.raises(TransientPluginError, match=r"HTTP 503 \(after 2 attempts\)"):
        fetch(_album(tmp_path, mb_albumid=GROUP), **_config(web, tmp_path, sources=["coverartarchive"], retries=1))
    # a source that is down does not stop the next one; the failure is not cached
    art = fetch(_album(tmp_path, mb_albumid=GROUP), **_config(web, tmp_path, retries=0))
    assert art.source == "lastfm"
    web.failures.clear()
    assert fetch(_album(tmp_path, mb_albumid=GROUP), **_config(web, tmp_path)).source == "coverartarchive"


def test_connection_refused_is_transient(tmp_path):
    with FakeWeb() as gone:
        config = _config(gone, tmp_path, sources=["coverartarchive"], retries=1)
    with pytest.raises(TransientPluginError, match="ConnectError"):
        fetch(_album(tmp_path, mb_albumid=RELEASE), **config)


def test_lastfm_busy_and_bad_key(web, tmp_path):
    web.lastfm_album = "lastfm-rate-limited.json"
    config = _config(web, tmp_path, sources=["lastfm"])
    with pytest.raises(TransientPluginError, match="busy"):
        fetch(_album(tmp_path), **config)
    web.lastfm_album = "lastfm-invalid-key.json"
    with pytest.raises(PermanentPluginError, match="Last.fm error 10"):
        fetch(_album(tmp_path), **config)  # the rate-limited answer was not cached


def test_each_host_gets_its_turn(web, tmp_path):
    config = _config(web, tmp_path, sources=["coverartarchive"], min_interval_ms={"127.0.0.1": 150})
    for _ in range(2):
        fetch(_album(tmp_path, mb_albumid=RELEASE), **config)
    times = [r.at for r in web.requests]
    assert len(times) == 5  # listing, image, redirect target; then cached listing, image, target
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.145


def test_only_allowed_hosts(web, tmp_path):
    config = _config(web, tmp_path, sources=["lastfm"], **{f"{name}_url": "http://localhost:1" for name in
                                                           ("coverartarchive", "musicbrainz", "lastfm")})
    with pytest.raises(PermanentPluginError, match="127.0.0.1 is not a host this plugin may contact"):
        # the answer comes from 127.0.0.1 only if asked there: ask the server directly for the image
        from soniquebay_covers.settings import settings_from
        from soniquebay_covers.web import client_for

        client_for(settings_from(config)).image(f"{web.base}/lastfm-img/i/u/300x300/{'0' * 32}.png")
    assert web.requests == []


def test_no_network_at_all_when_off(web, tmp_path):
    config = _config(web, tmp_path, network=False)
    assert fetch(_album(tmp_path, mb_albumid=RELEASE, mb_releasegroupid=GROUP), **config) is None
    assert web.requests == [] and not (tmp_path / "cache").exists()


def test_web_images_are_checked_like_any_other(web, tmp_path):
    web.missing.add(RELEASE)
    art = fetch(_album(tmp_path, mb_albumid=RELEASE), **_config(web, tmp_path, min_size=400))
    assert art is None  # Last.fm's 300 px image is too small here
    with Image.open(io.BytesIO(LASTFM_ALBUM)) as image:
        assert image.size == (300, 300)
