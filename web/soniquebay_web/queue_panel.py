"""The play queue drawer: reorder, remove, clear, save as a playlist, jump to a track."""
from __future__ import annotations

from nicegui import ui

from .session import Session, guarded
from .widgets import clock


def build(box: ui.element, session: Session) -> None:
    queue = session.queue

    def render() -> None:
        box.clear()
        with box:
            with ui.row().classes("w-full items-center no-wrap q-px-md q-pt-md"):
                ui.label("Queue").classes("text-h6")
                ui.label(f"{len(queue.tracks)} tracks").classes("sb-muted sb-queue-count")
                ui.space()
                ui.button(icon="save", on_click=save).props("flat round dense aria-label='Save as playlist'")\
                    .classes("sb-queue-save")
                ui.button(icon="clear_all", on_click=lambda: guarded(queue.clear()))\
                    .props("flat round dense aria-label='Clear the queue'").classes("sb-queue-clear")
            if not queue.tracks:
                ui.label("The queue is empty: press play on an album or a track.").classes("sb-muted q-pa-md")
                return
            with ui.element("div").classes("w-full sb-queue-list"):
                for index, track in enumerate(queue.tracks):
                    current = index == queue.current
                    with ui.element("div").classes("sb-queue-item row items-center no-wrap q-px-sm"
                                                   + (" sb-queue-current" if current else "")):
                        with ui.column().classes("gap-0 sb-track-main cursor-pointer").on(
                                "click", lambda i=index: guarded(queue.jump(i))):
                            ui.label(track["title"]).classes("ellipsis sb-queue-title")
                            ui.label(f"{track.get('artist') or ''} · {clock(track.get('duration'))}")\
                                .classes("ellipsis sb-muted text-caption")
                        ui.button(icon="arrow_upward", on_click=lambda i=index: guarded(queue.move(i, i - 1)))\
                            .props("flat round dense size=sm aria-label='Move up'").classes("sb-queue-up")
                        ui.button(icon="arrow_downward", on_click=lambda i=index: guarded(queue.move(i, i + 1)))\
                            .props("flat round dense size=sm aria-label='Move down'").classes("sb-queue-down")
                        ui.button(icon="close", on_click=lambda i=index: guarded(queue.remove(i)))\
                            .props("flat round dense size=sm aria-label=Remove").classes("sb-queue-remove")

    async def save() -> None:
        if not queue.tracks:
            ui.notify("The queue is empty", type="warning")
            return
        with ui.dialog() as dialog, ui.card().classes("sb-dialog"):
            ui.label("Save the queue as a playlist").classes("text-h6")
            name = ui.input("Name").classes("w-full sb-save-name").props("autofocus")

            async def done() -> None:
                if not name.value.strip():
                    ui.notify("Give the playlist a name", type="warning")
                    return
                made = await guarded(queue.save(name.value.strip()))
                if made:
                    ui.notify(f"Saved {made['name']}", type="positive")
                    dialog.close()

            name.on("keydown.enter", done)
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Save", on_click=done).props("unelevated color=primary").classes("sb-save-confirm")
        dialog.open()

    queue.listeners.append(render)
    render()
