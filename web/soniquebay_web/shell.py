"""The frame around every page: header with search, navigation, the player bar and the queue.

The root page is built once per tab; pages inside it (``ui.sub_pages``) change
without reloading, so the music keeps playing while the listener browses.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from . import queue_panel, search
from .api import Api, ApiError
from .pages import admin, library, playlists, scans, settings
from .player import PlayerBar, Queue
from .session import Session

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "sb_session"

NAV = [  # (label, icon, path, admin only)
    ("Albums", "album", "/albums", False),
    ("Artists", "person", "/artists", False),
    ("Tracks", "queue_music", "/tracks", False),
    ("Genres & tags", "sell", "/genres", False),
    ("Playlists", "playlist_play", "/playlists", False),
    ("Scans", "radar", "/scans", True),
    ("Plugins", "extension", "/plugins", True),
    ("Settings", "settings", "/settings", True),
]


def head() -> None:
    """Styles and the theme choice, read before the first paint so the page never flashes."""
    ui.add_head_html(f"<style>{(STATIC / 'app.css').read_text(encoding='utf-8')}</style>"
                     f"<script>{(STATIC / 'theme.js').read_text(encoding='utf-8')}</script>", shared=True)


def routes(session: Session) -> dict:
    pages = {"/": library.albums, "/albums": library.albums, "/albums/{album_id}": library.album,
             "/artists": library.artists, "/artists/{artist_id}": library.artist, "/genres": library.genres,
             "/tracks": library.tracks, "/search": search.results, "/playlists": playlists.playlists,
             "/playlists/{playlist_id}": playlists.playlist}
    if session.admin:
        pages |= {"/scans": scans.scans, "/plugins": admin.plugins, "/settings": settings.settings}
    else:
        pages |= {p: admin.admin_only for p in ("/scans", "/plugins", "/settings")}
    return pages


async def root(request: Request):
    token = request.cookies.get(SESSION_COOKIE)
    api = Api(token)
    try:
        user = await api.get("/api/auth/me") if token else None
    except ApiError:
        user = None
    if user is None:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    ui.page_title("SoniqueBay")
    ui.colors(primary="#7c4dff", secondary="#26a69a", accent="#ff4081")
    ui.query("body").classes("sb-body")

    with ui.header(elevated=False).classes("sb-header items-center no-wrap q-px-sm q-py-xs"):
        ui.button(icon="menu", on_click=lambda: drawer.toggle()).props("flat round dense aria-label=Menu")\
            .classes("lt-md")
        ui.link("SoniqueBay", "/albums").classes("sb-logo no-underline gt-xs")
        search_box = search.SearchBox()
        ui.space()
        ui.button(icon="contrast", on_click=lambda: ui.run_javascript("sbToggleTheme()"))\
            .props("flat round dense aria-label='Dark or light theme'")
        with ui.button(icon="account_circle").props(f"flat round dense aria-label='{user['name']}'"):
            with ui.menu():
                ui.menu_item(f"{user['name']} ({user['role']})").props("disable")
                ui.menu_item("Log out", lambda: ui.run_javascript(
                    "fetch('/api/auth/logout', {method: 'POST'}).then(() => location.assign('/login'))"))

    with ui.left_drawer(value=None, bordered=False).props("width=220 breakpoint=1023")\
            .classes("sb-drawer q-pa-sm") as drawer:
        for label, icon, path, admin_only in NAV:
            if admin_only and user["role"] != "admin":
                continue
            with ui.link(target=path).classes("sb-nav no-underline row items-center no-wrap"):
                ui.icon(icon)
                ui.label(label)

    with ui.right_drawer(value=False, bordered=True).props("width=340 overlay behavior=mobile")\
            .classes("sb-queue-drawer") as queue_drawer:
        queue_box = ui.column().classes("w-full")

    with ui.footer(elevated=False).classes("sb-footer q-pa-none"):
        bar = PlayerBar()

    session = Session(api=api, user=user, queue=Queue(api, bar))
    search_box.session = session
    bar.on("queue", queue_drawer.toggle)
    queue_panel.build(queue_box, session)
    ui.on("sb_progress", lambda e: session.on_progress(e.args))
    if session.admin:  # live scan and stage progress, for the scans page and toasts
        ui.run_javascript((STATIC / "events.js").read_text(encoding="utf-8"))
    with ui.element("main").classes("sb-main q-pa-md w-full"):
        ui.sub_pages(routes(session), data={"session": session})
    await session.queue.restore()
