"""Scans and the pipeline: start a scan, watch each stage live, see failures and retry them.

Progress arrives from the API's event stream (``/api/events``, relayed by the
browser, see ``static/events.js``); the stage totals come from ``/api/jobs``.
"""

from nicegui import ui
from nicegui.page_arguments import PageArguments

from ..session import Session, guarded
from ..widgets import loading, page_title


class StageBoard:
    """One row per stage: a progress bar, rates and errors, updated as events arrive."""

    def __init__(self, box: ui.element) -> None:
        self.box = box
        self.rows: dict[str, dict] = {}

    def _row(self, stage: str, label: str) -> dict:
        if stage not in self.rows:
            with self.box:
                with ui.card().classes("w-full sb-stage").props(f'flat bordered data-stage="{stage}"'):
                    with ui.row().classes("w-full items-center no-wrap"):
                        ui.label(label).classes("text-subtitle1 text-weight-medium")
                        ui.space()
                        status = ui.label("").classes("sb-muted sb-stage-status")
                    bar = ui.linear_progress(value=0, show_value=False, size="10px").props("rounded instant-feedback")\
                        .classes("sb-stage-bar")
                    errors = ui.label("").classes("text-negative text-caption sb-stage-errors")
            self.rows[stage] = {"status": status, "bar": bar, "errors": errors, "done": 0, "failed": 0,
                                "pending": None}
        return self.rows[stage]

    def summary(self, stages: list[dict]) -> None:
        for s in stages:
            row = self._row(f"{s['plugin']}.{s['stage']}", f"{s['plugin']} · {s['stage']}")
            row.update(done=s["done"], failed=s["failed"], pending=s["pending"])
            self._draw_stage(row)

    def _draw_stage(self, row: dict) -> None:
        total = row["done"] + row["failed"] + (row["pending"] or 0)
        row["bar"].set_value(row["done"] / total if total else 0)
        row["status"].set_text(f"{row['done']} done · {row['failed']} failed"
                               + (f" · {row['pending']} to go" if row["pending"] is not None else ""))

    def event(self, event: dict) -> bool:
        """Draw one event; False once the page is gone (the listener is then dropped)."""
        if self.box.is_deleted:
            return False
        if event.get("type", "").startswith("scan."):
            row = self._row("scan", "Scan: reading files")
            done = event["type"] == "scan.done"
            row["bar"].props(remove="indeterminate") if done else row["bar"].props("indeterminate")
            row["bar"].set_value(1 if done else 0)
            row["status"].set_text(f"{event.get('current', 0)} files · {event.get('files_per_second', 0)} files/s · "
                                   f"{event.get('new', 0)} new · {event.get('changed', 0)} changed · "
                                   f"{event.get('errors', 0)} errors" + (" · done" if done else ""))
            if done:
                ui.notify("Scan finished", type="positive")
        elif event.get("type") == "stage.job":
            stage = event["stage"]
            row = self._row(stage, stage.replace(".", " · "))
            row["done"] += event.get("done", 0)
            row["failed"] += event.get("failed", 0)
            if row["pending"] is not None:
                row["pending"] = max(row["pending"] - event.get("done", 0) - event.get("failed", 0), 0)
            self._draw_stage(row)
            if event.get("errors"):
                row["errors"].set_text("; ".join(event["errors"][:2]))
        return True


async def scans(args: PageArguments) -> None:
    session: Session = args.data["session"]
    page_title("Scans & pipeline", "Read new and changed files, then let the plugins enrich them.")
    spinner = loading()
    config = await guarded(session.api.get("/api/settings"))
    jobs = await guarded(session.api.get("/api/jobs"))
    spinner.delete()
    roots = (config or {}).get("library", {}).get("roots", [])

    with ui.card().classes("w-full").props("flat bordered"):
        ui.label("Library folders").classes("text-subtitle1 text-weight-medium")
        if roots:
            for root in roots:
                ui.label(root).classes("sb-root text-mono")
        else:
            ui.label("No library folder is configured yet: set library.roots in the config file, "
                     "or scan a folder once with `soniquebay scan PATH`.").classes("sb-muted")
        with ui.row().classes("items-center gap-2 w-full"):
            path = ui.input("Folder (optional: one folder inside a library folder)").props("dense outlined")\
                .classes("col")
            full = ui.checkbox("Full rescan")
            ui.button("Start scan", icon="radar", on_click=lambda: start()).props("unelevated color=primary")\
                .classes("sb-start-scan")

    ui.label("Progress").classes("text-h6 q-mt-md")
    board = StageBoard(ui.column().classes("w-full gap-2 sb-stages"))
    if jobs:
        board.summary(jobs["stages"])
        ui.label(f"Jobs run {'in this process' if jobs['mode'] == 'embedded' else 'by Redis workers'}.")\
            .classes("sb-muted text-caption")
    session.progress_listeners.append(board.event)

    async def start() -> None:
        started = await guarded(session.api.post("/api/scans", {"path": path.value or None, "full": full.value}))
        if started:
            ui.notify("Scan started", type="info")

    ui.label("Failed jobs").classes("text-h6 q-mt-md")
    failed_box = ui.column().classes("w-full")

    async def show_failed() -> None:
        failed = await guarded(session.api.get("/api/jobs/failed"))
        failed_box.clear()
        with failed_box:
            stages = (failed or {}).get("stages", [])
            if not stages:
                ui.label("No failed jobs.").classes("sb-muted sb-no-failed")
                return
            ui.button(f"Retry all {len(stages)}", icon="replay", on_click=lambda: retry({}))\
                .props("outline").classes("sb-retry-all")
            rows = [{"id": i, **s, "error": (s.get("error") or "").splitlines()[-1:] or [""]}
                    for i, s in enumerate(stages[:200])]
            for row in rows:
                row["error"] = row["error"][0]
            table = ui.table(columns=[
                {"name": "plugin", "label": "Plugin", "field": "plugin", "align": "left"},
                {"name": "stage", "label": "Stage", "field": "stage", "align": "left"},
                {"name": "path", "label": "File", "field": "path", "align": "left", "classes": "ellipsis"},
                {"name": "attempts", "label": "Attempts", "field": "attempts"},
                {"name": "error", "label": "Error", "field": "error", "align": "left"},
                {"name": "retry", "label": "", "field": "id"},
            ], rows=rows, row_key="id").props("flat bordered dense").classes("w-full sb-failed")
            table.add_slot("body-cell-retry", '<q-td :props="props"><q-btn flat dense icon="replay" '
                                              'aria-label="Retry" @click="$parent.$emit(\'retry\', props.row)" />'
                                              '</q-td>')
            table.on("retry", lambda e: retry({"track_ids": [e.args["track_id"]], "plugin": e.args["plugin"],
                                               "stages": [e.args["stage"]]}))

    async def retry(body: dict) -> None:
        done = await guarded(session.api.post("/api/jobs/retry", body))
        if done:
            ui.notify(f"Retrying {done['tracks']} tracks ({done['jobs']} jobs)", type="positive")
            await show_failed()

    await show_failed()
