"""Browsing: albums, artists, an album, an artist, genres and tags, and the track table.

Every list is a page of the API's paginated lists: a 100,000-track library
never travels to the browser whole.
"""

import string
from itertools import groupby
from urllib.parse import urlencode

from nicegui import ui
from nicegui.page_arguments import PageArguments

from ..api import ApiError
from ..session import Session, guarded
from ..widgets import album_card, clock, cover, empty_state, loading, page_title, track_list

ALBUMS_PER_PAGE = 48
ARTISTS_PER_PAGE = 60
ALBUM_SORTS = {"title": "Name", "artist": "Artist", "-year": "Year (newest)", "year": "Year (oldest)",
               "-added": "Recently added"}


def _no_library() -> None:
    empty_state("library_music", "No library yet — scan a folder",
                "Add your music folder and SoniqueBay will read its tags, covers and more.",
                ("Go to scans", "/scans"))


async def albums(args: PageArguments) -> None:
    session: Session = args.data["session"]
    query = args.query_parameters
    sort = query.get("sort", "title") if query.get("sort") in ALBUM_SORTS else "title"
    number = max(int(query.get("page", "1")) if query.get("page", "1").isdigit() else 1, 1)
    with ui.row().classes("w-full items-center"):
        page_title("Albums")
        ui.space()
        ui.select(ALBUM_SORTS, value=sort, label="Sort by",
                  on_change=lambda e: ui.navigate.to(f"/albums?{urlencode({'sort': e.value})}"))\
            .props("dense outlined options-dense").classes("sb-sort")
    grid = ui.element("div").classes("sb-grid w-full")
    with grid:
        spinner = loading()
    page = await guarded(session.api.get("/api/albums", sort=sort, limit=ALBUMS_PER_PAGE,
                                         offset=(number - 1) * ALBUMS_PER_PAGE))
    spinner.delete()
    if page is None:
        return
    if page["total"] == 0:
        grid.delete()
        _no_library()
        return
    with grid:
        for album in page["items"]:
            album_card(album)
    pages = -(-page["total"] // ALBUMS_PER_PAGE)
    if pages > 1:
        with ui.row().classes("w-full justify-center q-mt-md"):
            ui.pagination(1, pages, value=number, direction_links=True,
                          on_change=lambda e: ui.navigate.to(f"/albums?{urlencode({'sort': sort, 'page': e.value})}"))\
                .props("max-pages=7 boundary-numbers")


async def album(args: PageArguments) -> None:
    session: Session = args.data["session"]
    album_id = args.path_parameters["album_id"]
    spinner = loading()
    found = await guarded(session.api.get(f"/api/albums/{album_id}"))
    spinner.delete()
    if found is None:
        return
    tracks = found["tracks"]
    ids = [t["id"] for t in tracks]
    with ui.row().classes("w-full items-end gap-6 sb-album-head"):
        cover(found["id"], 512, "sb-album-cover")
        with ui.column().classes("gap-1"):
            ui.label("Album").classes("text-overline sb-muted")
            ui.label(found["title"]).classes("text-h4 text-weight-bold sb-album-title")
            ui.label(" · ".join(str(x) for x in (found.get("albumartist"), found.get("year"),
                                                 f"{len(tracks)} tracks", clock(found.get("duration"))) if x))\
                .classes("sb-muted")
            with ui.row().classes("gap-2 q-mt-sm"):
                ui.button("Play", icon="play_arrow", on_click=lambda: guarded(session.queue.play(ids)))\
                    .props("unelevated rounded color=primary").classes("sb-album-play")
                ui.button("Add to queue", icon="add_to_queue", on_click=lambda: guarded(session.queue.add(ids)))\
                    .props("outline rounded").classes("sb-album-queue")
    discs = {t.get("disc_number") or 1 for t in tracks}
    for disc, group in groupby(tracks, key=lambda t: t.get("disc_number") or 1):
        if len(discs) > 1:
            ui.label(f"Disc {disc}").classes("text-subtitle1 text-weight-medium q-mt-md sb-disc")
        track_list(session, list(group), numbered=True, show_album=False, play_ids=ids)


async def artists(args: PageArguments) -> None:
    session: Session = args.data["session"]
    query = args.query_parameters
    initial = query.get("initial", "")
    number = max(int(query.get("page", "1")) if query.get("page", "1").isdigit() else 1, 1)
    page_title("Artists")
    with ui.row().classes("gap-0 q-mb-md sb-az"):
        for letter in ["All", *string.ascii_uppercase, "#"]:
            value = "" if letter == "All" else letter
            ui.button(letter, on_click=lambda v=value: ui.navigate.to(
                f"/artists?{urlencode({'initial': v})}" if v else "/artists"))\
                .props(f"flat dense size=sm {'color=primary' if value == initial else ''}")\
                .classes("sb-az-letter")
    grid = ui.element("div").classes("sb-grid w-full")
    with grid:
        spinner = loading()
    page = await guarded(session.api.get("/api/artists", sort="name", initial=initial or None,
                                         limit=ARTISTS_PER_PAGE, offset=(number - 1) * ARTISTS_PER_PAGE))
    spinner.delete()
    if page is None:
        return
    if page["total"] == 0:
        grid.delete()
        _no_library() if not initial else empty_state("person_off", f"No artist under {initial}", "")
        return
    with grid:
        for artist in page["items"]:
            with ui.link(target=f"/artists/{artist['id']}").classes("sb-card sb-artist-card no-underline"):
                ui.html(f'<img src="/api/artists/{artist["id"]}/image?size=256" loading="lazy" decoding="async" '
                        f'alt="" class="sb-cover-img">', sanitize=False).classes("sb-cover sb-round")
                ui.label(artist["name"]).classes("sb-card-title ellipsis text-center")
                if artist.get("sort_name") and artist["sort_name"] != artist["name"]:
                    ui.label(artist["sort_name"]).classes("sb-card-sub ellipsis text-center")
    pages = -(-page["total"] // ARTISTS_PER_PAGE)
    if pages > 1:
        with ui.row().classes("w-full justify-center q-mt-md"):
            ui.pagination(1, pages, value=number, direction_links=True, on_change=lambda e: ui.navigate.to(
                f"/artists?{urlencode({'initial': initial, 'page': e.value})}")).props("max-pages=7 boundary-numbers")


async def artist(args: PageArguments) -> None:
    session: Session = args.data["session"]
    artist_id = args.path_parameters["artist_id"]
    spinner = loading()
    found = await guarded(session.api.get(f"/api/artists/{artist_id}"))
    top = await guarded(session.api.get("/api/tracks", artist=found["name"], sort="-year", limit=10)) \
        if found else None
    spinner.delete()
    if found is None:
        return
    with ui.row().classes("w-full items-end gap-6 sb-album-head"):
        ui.html(f'<img src="/api/artists/{found["id"]}/image?size=512" loading="lazy" alt="" class="sb-cover-img">',
                sanitize=False).classes("sb-cover sb-round sb-album-cover")
        with ui.column().classes("gap-1"):
            ui.label("Artist").classes("text-overline sb-muted")
            ui.label(found["name"]).classes("text-h4 text-weight-bold")
            ui.label(f"{len(found['albums'])} albums · {found['tracks']} tracks").classes("sb-muted")
    if top and top["items"]:
        with ui.row().classes("w-full items-center q-mt-lg"):
            ui.label("Tracks").classes("text-h6")
            ui.link("All tracks", f"/tracks?{urlencode({'artist': found['name']})}").classes("q-ml-md")
        track_list(session, top["items"])
    ui.label("Albums").classes("text-h6 q-mt-lg")
    with ui.element("div").classes("sb-grid w-full"):
        for item in found["albums"]:
            album_card(item)
    try:  # only when a plugin made vectors or answers similar_artists
        similar = await session.api.get(f"/api/vectors/artists/{artist_id}/similar", limit=12)
    except ApiError:
        return
    if similar["items"]:
        ui.label("Similar artists").classes("text-h6 q-mt-lg")
        with ui.row().classes("gap-2 sb-similar"):
            for item in similar["items"]:
                with ui.link(target=f"/artists/{item['id']}").classes("no-underline"):
                    ui.chip(item["name"], icon="person").props("outline clickable")


async def genres(args: PageArguments) -> None:
    session: Session = args.data["session"]
    page_title("Genres & tags")
    spinner = loading()
    found_genres = await guarded(session.api.get("/api/genres", limit=200))
    found_tags = await guarded(session.api.get("/api/tags", limit=200))
    spinner.delete()
    for heading, found, target in (("Genres", found_genres, lambda n: f"/tracks?{urlencode({'genre': n})}"),
                                   ("Tags", found_tags, lambda n: f"/search?{urlencode({'q': n})}")):
        ui.label(heading).classes("text-h6 q-mt-md")
        if not found or not found["items"]:
            ui.label(f"No {heading.lower()} yet.").classes("sb-muted")
            continue
        with ui.row().classes("gap-2"):
            for item in found["items"]:
                with ui.link(target=target(item["name"])).classes("no-underline"):
                    ui.chip(f"{item['name']} · {item['tracks']}").props("outline clickable").classes("sb-genre")


TRACK_COLUMNS = [
    {"name": "title", "label": "Title", "field": "title", "sortable": True, "align": "left"},
    {"name": "artist", "label": "Artist", "field": "artist", "sortable": True, "align": "left"},
    {"name": "album", "label": "Album", "field": "album", "sortable": True, "align": "left",
     "classes": "gt-sm", "headerClasses": "gt-sm"},
    {"name": "year", "label": "Year", "field": "year", "sortable": True, "classes": "gt-xs", "headerClasses": "gt-xs"},
    {"name": "duration", "label": "Time", "field": "time", "sortable": True},
    {"name": "format", "label": "Format", "field": "format", "classes": "gt-sm", "headerClasses": "gt-sm"},
    {"name": "bpm", "label": "BPM", "field": "bpm", "sortable": True, "classes": "gt-sm", "headerClasses": "gt-sm"},
    {"name": "key", "label": "Key", "field": "key", "classes": "gt-sm", "headerClasses": "gt-sm"},
]


async def tracks(args: PageArguments) -> None:
    session: Session = args.data["session"]
    query = args.query_parameters
    page_title("Tracks")
    filters = {"q": "", "artist": query.get("artist", ""), "genre": query.get("genre", ""), "format": "",
               "bpm_min": None, "bpm_max": None}
    state = {"page": 1, "rowsPerPage": 50, "sortBy": "added", "descending": True, "rowsNumber": 0}

    with ui.row().classes("w-full items-end gap-2 sb-track-filters"):
        words = ui.input("Filter", value="").props("dense outlined clearable debounce=300").classes("sb-filter-q")
        artist_in = ui.input("Artist", value=filters["artist"]).props("dense outlined clearable debounce=300")
        genre_in = ui.input("Genre", value=filters["genre"]).props("dense outlined clearable debounce=300")
        format_in = ui.select({"": "Any", **{f: f.upper() for f in ("mp3", "flac", "m4a", "ogg", "opus", "wav")}},
                              value="", label="Format")\
            .props("dense outlined").classes("sb-filter-format")
        bpm_min = ui.number("BPM from", min=0, max=400).props("dense outlined debounce=400").classes("sb-filter-bpm")
        bpm_max = ui.number("to", min=0, max=400).props("dense outlined debounce=400").classes("sb-filter-bpm")

    table = ui.table(columns=TRACK_COLUMNS, rows=[], row_key="id", pagination=dict(state))\
        .props("flat bordered dense :rows-per-page-options='[25,50,100]' binary-state-sort")\
        .classes("w-full sb-track-table")
    table.add_slot("body-cell-title", r'''
        <q-td :props="props">
          <q-btn flat round dense size="sm" icon="play_arrow" aria-label="Play"
                 @click="$parent.$emit('play', props.rowIndex)" />
          {{ props.value }}
        </q-td>''')

    async def load() -> None:
        table.props("loading")
        sort = state["sortBy"] or "added"
        found = await guarded(session.api.get(
            "/api/tracks", q=words.value or None, artist=artist_in.value or None, genre=genre_in.value or None,
            format=format_in.value or None, bpm_min=bpm_min.value, bpm_max=bpm_max.value,
            sort=("-" if state["descending"] else "") + sort, limit=state["rowsPerPage"],
            offset=(state["page"] - 1) * state["rowsPerPage"]))
        table.props(remove="loading")
        if found is None:
            return
        state["rowsNumber"] = found["total"]
        table.rows = [{**t, "time": clock(t.get("duration")), "bpm": round(t["bpm"]) if t.get("bpm") else None,
                       "format": (t.get("format") or "").upper()} for t in found["items"]]
        table.pagination = dict(state)

    async def requested(e) -> None:
        state.update({k: e.args["pagination"].get(k, state[k]) for k in ("page", "rowsPerPage", "sortBy",
                                                                          "descending")})
        await load()

    async def play(e) -> None:
        ids = [row["id"] for row in table.rows]
        await guarded(session.queue.play(ids, int(e.args)))

    async def refilter() -> None:
        state["page"] = 1
        await load()

    def keep_total(e) -> None:
        # The table sends its pagination back when it settles (without our total, on a first render); taken
        # as it is, that would overwrite the total the server just set, and the page would read "of 0".
        if e.value.get("rowsNumber") != state["rowsNumber"]:
            table.pagination = {**e.value, "rowsNumber": state["rowsNumber"]}

    table.on("request", requested)
    table.on_pagination_change(keep_total)
    table.on("play", play)
    for control in (words, artist_in, genre_in, format_in, bpm_min, bpm_max):
        control.on_value_change(refilter)
    await load()
