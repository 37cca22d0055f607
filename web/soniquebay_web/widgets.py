"""Pieces every page uses: covers, album cards, track lists, empty and loading states."""
from __future__ import annotations

from nicegui import ui

from .player import cover_url
from .session import Session, guarded


def clock(seconds: float | None) -> str:
    if not seconds:
        return ""
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def page_title(text: str, subtitle: str = "") -> None:
    with ui.column().classes("gap-0 q-mb-md"):
        ui.label(text).classes("text-h5 text-weight-bold sb-page-title")
        if subtitle:
            ui.label(subtitle).classes("text-caption sb-muted")


def loading() -> ui.element:
    box = ui.row().classes("w-full justify-center q-pa-xl sb-loading")
    with box:
        ui.spinner("audio", size="3em", color="primary")
    return box


def empty_state(icon: str, title: str, text: str, link: tuple[str, str] | None = None) -> None:
    with ui.column().classes("w-full items-center q-pa-xl text-center sb-empty"):
        ui.icon(icon, size="4em").classes("sb-muted")
        ui.label(title).classes("text-h6")
        ui.label(text).classes("sb-muted")
        if link:
            ui.button(link[0], on_click=lambda: ui.navigate.to(link[1])).props("unelevated color=primary")


def cover(album_id: int, size: int = 256, classes: str = "") -> None:
    """An album cover, fetched only when scrolled into view (the API answers a placeholder when the
    album has no art)."""
    ui.html(f'<img src="{cover_url(album_id, size)}" loading="lazy" decoding="async" alt="" class="sb-cover-img">',
            sanitize=False).classes(f"sb-cover {classes}")


def album_card(album: dict) -> None:
    with ui.link(target=f"/albums/{album['id']}").classes("sb-card sb-album-card no-underline"):
        cover(album["id"])
        ui.label(album["title"]).classes("sb-card-title ellipsis")
        sub = " · ".join(str(x) for x in (album.get("albumartist"), album.get("year")) if x)
        ui.label(sub).classes("sb-card-sub ellipsis")


def track_list(session: Session, tracks: list[dict], numbered: bool = False, show_album: bool = True,
               play_ids: list[int] | None = None) -> None:
    """Tracks as rows; play starts the queue at a row and carries on with the rows after it (or with
    ``play_ids``, the whole album when the rows are one of its discs)."""
    ids = play_ids or [t["id"] for t in tracks]
    with ui.element("div").classes("sb-tracks w-full"):
        for track in tracks:
            with ui.element("div").classes("sb-track row items-center no-wrap").props(
                    f'data-track-id="{track["id"]}"'):
                if numbered:
                    ui.label(str(track.get("track_number") or "")).classes("sb-track-no sb-muted")
                ui.button(icon="play_arrow",
                          on_click=lambda t=track: guarded(session.queue.play(ids, ids.index(t["id"]))))\
                    .props("flat round dense aria-label=Play").classes("sb-track-play")
                with ui.column().classes("gap-0 sb-track-main"):
                    ui.label(track["title"]).classes("sb-track-title ellipsis")
                    parts = [track.get("artist")] + ([track.get("album")] if show_album else [])
                    ui.label(" — ".join(p for p in parts if p)).classes("sb-track-sub ellipsis sb-muted")
                with ui.row().classes("sb-track-badges gap-1 no-wrap gt-xs"):
                    if track.get("bpm"):
                        ui.badge(f"{track['bpm']:.0f} BPM").props("outline color=grey-7")
                    if track.get("key"):
                        ui.badge(track["key"]).props("outline color=grey-7")
                    if track.get("format"):
                        ui.badge(track["format"].upper()).props("outline color=grey-7")
                ui.label(clock(track.get("duration"))).classes("sb-track-time sb-muted")
                with ui.button(icon="more_vert").props("flat round dense aria-label=More").classes("sb-track-more"):
                    with ui.menu():
                        ui.menu_item("Play next", lambda t=track: guarded(session.queue.add([t["id"]], next_up=True)))
                        ui.menu_item("Add to queue", lambda t=track: guarded(session.queue.add([t["id"]])))
                        ui.menu_item("Add to playlist…", lambda t=track: add_to_playlist(session, [t["id"]]))


async def add_to_playlist(session: Session, track_ids: list[int]) -> None:
    page = await guarded(session.api.get("/api/playlists", limit=200))
    if page is None:
        return
    with ui.dialog() as dialog, ui.card().classes("sb-dialog"):
        ui.label("Add to playlist").classes("text-h6")
        names = {p["id"]: p["name"] for p in page["items"]}
        choice = ui.select(names, label="Playlist").classes("w-full") if names else None
        new_name = ui.input("…or a new playlist").classes("w-full")

        async def done() -> None:
            if new_name.value.strip():
                made = await guarded(session.api.post("/api/playlists", {"name": new_name.value.strip(),
                                                                         "track_ids": track_ids}))
            elif choice is not None and choice.value:
                made = await guarded(session.api.post(f"/api/playlists/{choice.value}/tracks",
                                                      {"track_ids": track_ids}))
            else:
                ui.notify("Choose a playlist or name a new one", type="warning")
                return
            if made:
                ui.notify(f"Added to {made['name']}", type="positive")
                dialog.close()

        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            ui.button("Add", on_click=done).props("unelevated color=primary")
    dialog.open()
