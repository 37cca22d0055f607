"""The player bar and the play queue it plays.

The queue lives on the server (``/api/queue``): it survives a reload and is
the same in every tab. The bar itself (``player.js``) keeps time, seeking
and volume in the browser and streams ``/api/tracks/{id}/stream``.
"""
from __future__ import annotations

from collections.abc import Callable

from nicegui import ui
from nicegui.element import Element

from .api import Api


def stream_url(track_id: int) -> str:
    return f"/api/tracks/{track_id}/stream"


def cover_url(album_id: int, size: int = 256) -> str:
    return f"/api/albums/{album_id}/cover?size={size}"


class PlayerBar(Element, component="player.js"):
    def __init__(self) -> None:
        super().__init__()
        self._props.update(title="", artist="", cover="")

    def show(self, track: dict | None, autoplay: bool) -> None:
        self._props.update(title=track["title"] if track else "", artist=(track or {}).get("artist") or "",
                           cover=cover_url(track["album_id"], 128) if track and track.get("album_id") else "")
        self.update()
        self.run_method("load", stream_url(track["id"]) if track else "", autoplay)


class Queue:
    """What the caller's ``/api/queue`` holds, and the bar playing its current track."""

    def __init__(self, api: Api, bar: PlayerBar) -> None:
        self.api = api
        self.bar = bar
        self.tracks: list[dict] = []
        self.current: int | None = None
        self.listeners: list[Callable[[], None]] = []
        bar.on("ended", self.next)
        bar.on("next", self.next)
        bar.on("previous", self.previous)
        bar.on("start", lambda: self.jump(self.current or 0) if self.tracks else None)
        bar.on("failed", lambda e: ui.notify(f"Playback failed: {e.args}", type="negative"))

    @property
    def playing(self) -> dict | None:
        return self.tracks[self.current] if self.current is not None and self.tracks else None

    def _take(self, queue: dict, autoplay: bool) -> None:
        before = self.playing
        self.tracks, self.current = queue["tracks"], queue["current"]
        now = self.playing
        if autoplay or (before or {}).get("id") != (now or {}).get("id"):
            self.bar.show(now, autoplay)
        for listener in list(self.listeners):
            listener()

    async def restore(self) -> None:
        self._take(await self.api.get("/api/queue"), autoplay=False)

    async def play(self, track_ids: list[int], start: int = 0) -> None:
        """Replace the queue with ``track_ids`` and play from ``start``."""
        self._take(await self.api.put("/api/queue", {"track_ids": track_ids, "current": start}), autoplay=True)

    async def add(self, track_ids: list[int], next_up: bool = False) -> None:
        position = self.current + 1 if next_up and self.current is not None else None
        self._take(await self.api.post("/api/queue/tracks", {"track_ids": track_ids, "position": position}),
                   autoplay=False)
        ui.notify(f"{len(track_ids)} track{'s' if len(track_ids) != 1 else ''} "
                  f"{'to play next' if next_up else 'added to the queue'}")

    async def jump(self, index: int) -> None:
        ids = [t["id"] for t in self.tracks]
        self._take(await self.api.put("/api/queue", {"track_ids": ids, "current": index}), autoplay=True)

    async def next(self) -> None:
        if self.current is not None and self.current + 1 < len(self.tracks):
            await self.jump(self.current + 1)

    async def previous(self) -> None:
        if self.current:
            await self.jump(self.current - 1)

    async def remove(self, position: int) -> None:
        self._take(await self.api.delete(f"/api/queue/tracks/{position}"), autoplay=False)

    async def move(self, from_position: int, to_position: int) -> None:
        if 0 <= to_position < len(self.tracks):
            self._take(await self.api.post("/api/queue/move", {"from_position": from_position,
                                                               "to_position": to_position}), autoplay=False)

    async def clear(self) -> None:
        self._take(await self.api.delete("/api/queue"), autoplay=False)

    async def save(self, name: str) -> dict:
        return await self.api.post("/api/queue/save", {"name": name})
