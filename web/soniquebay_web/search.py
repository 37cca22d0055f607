"""Search: the header's box with typeahead, and the results page with facets that narrow it."""

from urllib.parse import urlencode

from nicegui import ui
from nicegui.page_arguments import PageArguments

from .api import ApiError
from .session import Session, guarded
from .widgets import cover, empty_state, loading, page_title, track_list

FILTERS = ("genre", "decade", "format", "key", "bpm_min", "bpm_max")


class SearchBox:
    """Suggestions (artists, albums, tracks) as the listener types; Enter opens the results page.

    Answers that arrive after a newer keystroke are dropped, so the list always
    matches what is in the box.
    """

    def __init__(self) -> None:
        self.session: Session | None = None
        self._asked = 0
        with ui.element("div").classes("sb-search"):
            self.input = ui.input(placeholder="Search artists, albums, tracks").props(
                'dense outlined rounded clearable input-class=sb-search-input aria-label=Search type=search')\
                .classes("w-full")
            with self.input.add_slot("prepend"):
                ui.icon("search")
            self.panel = ui.element("div").classes("sb-suggest shadow-4")
            self.panel.set_visibility(False)
        self.input.on_value_change(self._typed)
        self.input.on("keydown.enter", self._submit)
        self.input.on("keydown.escape", lambda: self.panel.set_visibility(False))
        self.input.on("blur", lambda: ui.timer(0.25, lambda: self.panel.set_visibility(False), once=True))

    async def _typed(self) -> None:
        text = (self.input.value or "").strip()
        self._asked += 1
        asked = self._asked
        if not text or self.session is None:
            self.panel.set_visibility(False)
            return
        try:
            found = await self.session.api.get("/api/search/suggest", q=text, limit=5)
        except ApiError as exc:
            ui.notify(exc.message, type="negative")
            return
        if asked != self._asked:
            return
        self._show(found)

    def _show(self, found: dict) -> None:
        self.panel.clear()
        with self.panel:
            groups = (("Artists", found["artists"], lambda a: (a["name"], "", f"/artists/{a['id']}", None)),
                      ("Albums", found["albums"], lambda a: (a["title"], " · ".join(
                          str(x) for x in (a.get("albumartist"), a.get("year")) if x), f"/albums/{a['id']}", a)),
                      ("Tracks", found["tracks"], lambda t: (t["title"], " — ".join(
                          x for x in (t.get("artist"), t.get("album")) if x), f"/albums/{t['album_id']}", None)))
            shown = 0
            for heading, items, describe in groups:
                if not items:
                    continue
                ui.label(heading).classes("sb-suggest-heading")
                for item in items:
                    title, sub, target, album = describe(item)
                    with ui.link(target=target).classes("sb-suggest-item row items-center no-wrap no-underline"):
                        if album is not None:
                            cover(album["id"], 64, "sb-suggest-cover")
                        with ui.column().classes("gap-0"):
                            ui.label(title).classes("ellipsis")
                            if sub:
                                ui.label(sub).classes("ellipsis sb-muted text-caption")
                    shown += 1
            if not shown:
                ui.label(f"Nothing matches “{found['query']}”").classes("sb-muted q-pa-sm sb-suggest-none")
            ui.link(f"All results for “{found['query']}”", f"/search?{urlencode({'q': found['query']})}")\
                .classes("sb-suggest-all")
        self.panel.set_visibility(True)

    def _submit(self) -> None:
        text = (self.input.value or "").strip()
        if text:
            self.panel.set_visibility(False)
            ui.navigate.to(f"/search?{urlencode({'q': text})}")


def _params(args: PageArguments) -> dict:
    query = args.query_parameters
    params = {"q": query.get("q", "")}
    for name in FILTERS:
        if query.get(name):
            params[name] = query[name]
    return params


def _api_filters(params: dict) -> dict:
    filters = {k: v for k, v in params.items() if k in ("q", "genre", "format", "key", "bpm_min", "bpm_max")}
    if params.get("decade"):
        decade = int(params["decade"])
        filters |= {"year_min": decade, "year_max": decade + 9}
    return filters


async def results(args: PageArguments) -> None:
    session: Session = args.data["session"]
    params = _params(args)
    if not params["q"]:
        page_title("Search")
        empty_state("search", "Search your library", "Type an artist, an album or a title in the box above.")
        return
    page_title(f"Results for “{params['q']}”")
    spinner = loading()
    found = await guarded(session.api.get("/api/search", limit=100, **_api_filters(params)))
    spinner.delete()
    if found is None:
        return

    def link(changes: dict) -> str:
        merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
        return f"/search?{urlencode(merged)}"

    with ui.row().classes("w-full no-wrap items-start gap-6 sb-search-page"):
        with ui.column().classes("sb-facets gap-3"):
            facets = found.get("facets") or {}
            for name, label in (("genre", "Genre"), ("decade", "Decade"), ("format", "Format"), ("key", "Key")):
                values = facets.get(name) or []
                active = params.get(name)
                if not values and not active:
                    continue
                ui.label(label).classes("text-overline sb-muted")
                with ui.row().classes("gap-1"):
                    if active:
                        shown = f"{active}s" if name == "decade" else active
                        ui.chip(f"{shown} ✕", on_click=lambda n=name: ui.navigate.to(link({n: None})))\
                            .props("color=primary text-color=white dense").classes(f"sb-facet-active sb-facet-{name}")
                        continue
                    for v in values:
                        value = v["value"]
                        shown = f"{value}s" if name == "decade" else str(value).upper() if name == "format" else value
                        ui.chip(f"{shown} · {v['count']}", on_click=lambda n=name, val=value: ui.navigate.to(
                            link({n: val}))).props("outline dense clickable").classes(f"sb-facet sb-facet-{name}")
            ui.label("BPM").classes("text-overline sb-muted")
            bpm = ui.range(min=40, max=220, step=1, value={"min": int(float(params.get("bpm_min", 40))),
                                                            "max": int(float(params.get("bpm_max", 220)))})\
                .props("label dense").classes("sb-bpm-range")
            bpm.on("change", lambda: ui.navigate.to(link(
                {"bpm_min": bpm.value["min"] if bpm.value["min"] > 40 else None,
                 "bpm_max": bpm.value["max"] if bpm.value["max"] < 220 else None})))
        with ui.column().classes("col gap-2"):
            ui.label(f"{found['total']} track{'s' if found['total'] != 1 else ''}").classes("sb-muted sb-result-count")
            if not found["items"]:
                empty_state("search_off", "No tracks match", "Try fewer filters or other words.")
                return
            track_list(session, found["items"])
