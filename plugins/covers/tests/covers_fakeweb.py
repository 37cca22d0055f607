"""A real HTTP server on 127.0.0.1 that answers like Cover Art Archive, archive.org, MusicBrainz and Last.fm,
from the recordings in ``recorded/``. The plugin's own client talks to it: only the base URLs differ
(``FakeWeb.config``).

As a recording proxy would, the server rewrites the hosts inside the recorded answers
(``http://coverartarchive.org/``, ``https://lastfm.freetls.fastly.net/``) to itself, and answers an
image request on Cover Art Archive with the same 307 redirect to archive.org the real service sends.
Tests steer it through its attributes (ids to answer 404 for, statuses to answer first, which
recording Last.fm answers) and read ``requests`` to see what the client asked.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import parse_qs, urlsplit

RECORDED = Path(__file__).parent / "recorded"
LASTFM_PLACEHOLDER = "2a96cbd8b46e442fc41c2b86b821562f"


@dataclass
class Seen:
    at: float
    path: str
    params: dict[str, str]


@dataclass
class FakeWeb:
    missing: set[str] = field(default_factory=set)  # MusicBrainz ids Cover Art Archive has nothing for
    failures: dict[str, list[int]] = field(default_factory=dict)  # path prefix -> statuses to answer first
    search: str = "musicbrainz-release-search.json"
    lastfm_album: str = "lastfm-album-getinfo.json"
    lastfm_artists: dict[str, str] = field(default_factory=dict)  # artist -> recording (default: the one below)
    lastfm_artist: str = "lastfm-artist-getinfo.json"
    requests: list[Seen] = field(default_factory=list)

    def __enter__(self) -> Self:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._answer(self)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def config(self, cache_dir: Path, **more) -> dict:
        """The plugin's config block pointing at this server, with the network on and quick waits."""
        return {"network": True, "coverartarchive_url": f"{self.base}/caa", "musicbrainz_url": f"{self.base}/mb",
                "lastfm_url": f"{self.base}/lastfm", "lastfm_api_key": "0123456789abcdef0123456789abcdef",
                "cache_dir": str(cache_dir), "min_interval_ms": {}, "default_interval_ms": 0,
                "backoff_s": 0.05, **more}

    def paths(self, prefix: str = "") -> list[str]:
        return [r.path for r in self.requests if r.path.startswith(prefix)]

    # -- answering ---------------------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append(Seen(time.monotonic(), url.path, params))
        status, headers, body = self._route(url.path, params)
        handler.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _route(self, path: str, params: dict[str, str]) -> tuple[int, dict, bytes]:
        for prefix, statuses in self.failures.items():
            if path.startswith(prefix) and statuses:
                return statuses.pop(0), {"Content-Type": "text/plain"}, b"busy, try later"
        if match := re.fullmatch(r"/caa/(release|release-group)/([0-9a-f-]{36})", path):
            kind, mbid = match.groups()
            if mbid in self.missing:
                return 404, {"Content-Type": "text/plain"}, f"No cover art found for {kind} {mbid}".encode()
            return self._json(f"caa-{kind}.json")
        if match := re.fullmatch(r"/caa/release/([0-9a-f-]{36})/(\d+)(?:-(\d+))?\.jpg", path):
            mbid, image, size = match.groups()
            target = f"{self.base}/ia/download/mbid-{mbid}/mbid-{mbid}-{image}_thumb{size or ''}.jpg"
            return 307, {"Location": target}, b""
        if path.startswith("/ia/download/"):
            return 200, {"Content-Type": "image/jpeg"}, (RECORDED / "caa-front-500.jpg").read_bytes()
        if path == "/mb/ws/2/release/":
            return self._json(self.search)
        if path == "/lastfm/2.0/":
            if params.get("method") == "album.getinfo":
                return self._json(self.lastfm_album)
            if params.get("method") == "artist.getinfo":
                return self._json(self.lastfm_artists.get(params.get("artist", ""), self.lastfm_artist))
        if match := re.fullmatch(r"/lastfm-img/i/u/[0-9a-z]+/([0-9a-f]{32})\.(png|jpg)", path):
            name = {"png": "lastfm-album-300.png", "jpg": "lastfm-artist-300.jpg"}[match.group(2)]
            if match.group(1) == LASTFM_PLACEHOLDER:
                name = "lastfm-star-placeholder.png"
            return 200, {"Content-Type": f"image/{'png' if name.endswith('png') else 'jpeg'}"}, \
                (RECORDED / name).read_bytes()
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _json(self, name: str) -> tuple[int, dict, bytes]:
        text = (RECORDED / name).read_text(encoding="utf-8")
        text = text.replace("http://coverartarchive.org/", f"{self.base}/caa/")
        text = text.replace("https://lastfm.freetls.fastly.net/", f"{self.base}/lastfm-img/")
        json.loads(text)  # the recording is JSON
        return 200, {"Content-Type": "application/json"}, text.encode()
