"""Playlists: create, rename, delete, play, remove tracks."""

from nicegui import ui
from nicegui.page_arguments import PageArguments

from ..session import Session, guarded
from ..widgets import clock, empty_state, loading, page_title


async def playlists(args: PageArguments) -> None:
    session: Session = args.data["session"]
    with ui.row().classes("w-full items-center"):
        page_title("Playlists")
        ui.space()
        name = ui.input(placeholder="New playlist name").props("dense outlined").classes("sb-new-playlist")

        async def create() -> None:
            if not (name.value or "").strip():
                ui.notify("Give the playlist a name", type="warning")
                return
            made = await guarded(session.api.post("/api/playlists", {"name": name.value.strip()}))
            if made:
                ui.navigate.to(f"/playlists/{made['id']}")

        name.on("keydown.enter", create)
        ui.button("Create", icon="add", on_click=create).props("unelevated color=primary")
    spinner = loading()
    page = await guarded(session.api.get("/api/playlists", limit=200))
    spinner.delete()
    if page is None:
        return
    if not page["items"]:
        empty_state("playlist_add", "No playlists yet",
                    "Create one here, or save the play queue as a playlist from the queue panel.")
        return
    with ui.element("div").classes("sb-grid w-full"):
        for item in page["items"]:
            with ui.link(target=f"/playlists/{item['id']}").classes("sb-card sb-playlist-card no-underline"):
                with ui.element("div").classes("sb-cover sb-cover-empty"):
                    ui.icon("queue_music", size="3em")
                ui.label(item["name"]).classes("sb-card-title ellipsis")
                ui.label(f"{item['track_count']} tracks").classes("sb-card-sub")


async def playlist(args: PageArguments) -> None:
    session: Session = args.data["session"]
    playlist_id = args.path_parameters["playlist_id"]
    box = ui.column().classes("w-full")

    async def render() -> None:
        found = await guarded(session.api.get(f"/api/playlists/{playlist_id}"))
        box.clear()
        if found is None:
            return
        ids = [t["id"] for t in found["tracks"]]
        with box:
            with ui.row().classes("w-full items-center gap-2"):
                title = ui.input(value=found["name"]).props("dense borderless input-class='text-h5 text-weight-bold'")\
                    .classes("sb-playlist-name")
                title.on("blur", lambda: rename(title.value))
                title.on("keydown.enter", lambda: rename(title.value))
                ui.space()
                ui.button("Play", icon="play_arrow", on_click=lambda: guarded(session.queue.play(ids)))\
                    .props("unelevated rounded color=primary").classes("sb-playlist-play")
                ui.button(icon="delete", on_click=delete).props("flat round aria-label='Delete playlist'")
            if not found["tracks"]:
                empty_state("playlist_add", "This playlist is empty",
                            "Add tracks from an album or a search with the ⋮ menu.")
                return
            for position, track in enumerate(found["tracks"]):
                with ui.element("div").classes("sb-track row items-center no-wrap"):
                    ui.button(icon="play_arrow", on_click=lambda p=position: guarded(session.queue.play(ids, p)))\
                        .props("flat round dense aria-label=Play")
                    with ui.column().classes("gap-0 sb-track-main"):
                        ui.label(track["title"]).classes("sb-track-title ellipsis")
                        ui.label(track.get("artist") or "").classes("sb-track-sub ellipsis sb-muted")
                    ui.label(clock(track.get("duration"))).classes("sb-track-time sb-muted")
                    ui.button(icon="remove_circle_outline", on_click=lambda p=position: remove(p))\
                        .props("flat round dense aria-label='Remove from playlist'")

    async def rename(value: str) -> None:
        if value.strip():
            if await guarded(session.api.patch(f"/api/playlists/{playlist_id}", {"name": value.strip()})):
                ui.notify("Renamed", type="positive")

    async def remove(position: int) -> None:
        if await guarded(session.api.delete(f"/api/playlists/{playlist_id}/tracks/{position}")):
            await render()

    async def delete() -> None:
        if await guarded(session.api.delete(f"/api/playlists/{playlist_id}")):
            ui.notify("Playlist deleted")
            ui.navigate.to("/playlists")

    await render()
