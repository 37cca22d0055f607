"""The plugin's only way to the network: allowed hosts, a turn per host, answers cached, quick retries.

- Only hosts of the configured base URLs and ``image_hosts`` (and their sub-domains) are
  contacted, redirects included (Cover Art Archive redirects to archive.org).
- Each host has a minimum interval between requests (``min_interval_ms``), kept across
  threads and worker processes by a lock file per host in the cache directory.
- Lookups (JSON) are cached with their answer, "not found" included, each with its own
  expiry; images are not: the library stores the one it keeps.
- Connection errors, timeouts, 429 and 5xx are retried ``retries`` times with doubling
  waits (``Retry-After`` honoured, at most ``MAX_WAIT_S``); then ``TransientPluginError``
  asks the core to retry the album later. Other statuses are permanent failures.
"""
from __future__ import annotations

import fcntl
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Literal

import httpx

from soniquebay_core.errors import PermanentPluginError, TransientPluginError

from . import __version__
from .cache import AnswerCache
from .settings import CoverSettings

log = logging.getLogger("soniquebay.covers")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5
MAX_WAIT_S = 30.0
MAX_BODY = 16 * 1024 * 1024  # no cover needs more

Verdict = Literal["found", "missing", "retry"]


class WebClient:
    def __init__(self, settings: CoverSettings):
        self.settings = settings
        self.cache = AnswerCache(settings.cache_dir)
        self.turns = settings.cache_dir / "turns"
        self.turns.mkdir(parents=True, exist_ok=True)
        bases = (settings.coverartarchive_url, settings.musicbrainz_url, settings.lastfm_url)
        self.allowed = {httpx.URL(u).host for u in bases} | set(settings.image_hosts)
        self.http = httpx.Client(timeout=settings.timeout_s, follow_redirects=False, headers={
            "User-Agent": f"SoniqueBay-covers/{__version__} ( {settings.contact} )"})

    def json(self, url: str, params: dict | None = None,
             judge: Callable[[dict], Verdict] | None = None) -> dict | None:
        """A JSON lookup; ``None`` when the service has nothing. ``judge`` reads services that say
        "not found" (or "busy") inside a 200 answer."""
        full = str(httpx.URL(url, params=params))
        hit = self.cache.get(full)
        if hit is not None:
            return json.loads(hit.body) if hit.status == 200 else None
        status, body = self._fetch(full, "application/json")
        if status == 404:
            self.cache.put(full, 404, b"", self.settings.not_found_days)
            return None
        try:
            answer = json.loads(body)
        except ValueError as exc:
            raise TransientPluginError(f"{_host(full)} answered something that is not JSON: {exc}") from None
        verdict = judge(answer) if judge else "found"
        if verdict == "retry":
            raise TransientPluginError(f"{_host(full)} is busy: {str(answer)[:200]}")
        if verdict == "missing":
            self.cache.put(full, 404, b"", self.settings.not_found_days)
            return None
        self.cache.put(full, 200, body, self.settings.cache_days)
        return answer

    def image(self, url: str) -> bytes | None:
        status, body = self._fetch(url, "image/*")
        return body if status == 200 else None

    # -- one request ------------------------------------------------------------------------------

    def _fetch(self, url: str, accept: str) -> tuple[int, bytes]:
        """(200 or 404, body), after quick retries of what may pass."""
        error = ""
        for attempt in range(self.settings.retries + 1):
            wait = self.settings.backoff_s * 2 ** attempt
            try:
                status, body, retry_after = self._follow(url, accept)
            except httpx.TransportError as exc:  # connection refused, DNS, timeouts
                error = f"{type(exc).__name__}: {exc}"
            else:
                if status in (200, 404):
                    return status, body
                if status not in RETRY_STATUSES:
                    raise PermanentPluginError(f"{url}: HTTP {status}")
                error = f"HTTP {status}"
                wait = retry_after if retry_after is not None else wait
            if attempt < self.settings.retries:
                log.info("%s: %s; trying again in %.1f s", url, error, wait)
                time.sleep(min(wait, MAX_WAIT_S))
        raise TransientPluginError(f"{_host(url)}: {error} (after {self.settings.retries + 1} attempts)")

    def _follow(self, url: str, accept: str) -> tuple[int, bytes, float | None]:
        for _ in range(MAX_REDIRECTS + 1):
            host = _host(url)
            if not any(host == h or host.endswith("." + h) for h in self.allowed):
                raise PermanentPluginError(f"{url}: {host} is not a host this plugin may contact")
            self._wait_turn(host)
            with self.http.stream("GET", url, headers={"Accept": accept}) as response:
                if response.is_redirect and "location" in response.headers:
                    url = str(response.url.join(response.headers["location"]))
                    continue
                body = bytearray()
                if response.status_code == 200:
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > MAX_BODY:
                            raise PermanentPluginError(f"{url}: more than {MAX_BODY} bytes")
                return response.status_code, bytes(body), _retry_after(response)
        raise PermanentPluginError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _wait_turn(self, host: str) -> None:
        """Wait until ``host``'s interval has passed since anyone's last request to it, then claim the turn."""
        interval = self.settings.interval_s(host)
        if not interval:
            return
        with open(self.turns / host, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # held while waiting: the others queue behind
            lock.seek(0)
            last = float(lock.read() or 0)
            delay = last + interval - time.time()
            if delay > 0:
                time.sleep(delay)
            lock.seek(0)
            lock.truncate()
            lock.write(repr(time.time()).encode())


def _host(url: str) -> str:
    return httpx.URL(url).host


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return None


_clients: dict[str, WebClient] = {}
_clients_lock = threading.Lock()


def client_for(settings: CoverSettings) -> WebClient:
    """One client (one connection pool) per distinct settings, made on first need: never when offline."""
    key = settings.model_dump_json()
    with _clients_lock:
        if key not in _clients:
            _clients[key] = WebClient(settings)
        return _clients[key]
