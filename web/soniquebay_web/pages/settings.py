"""The settings page (admins only): profile, library folders, scanning and job intervals, changed at run time.

Each card saves its own changes through ``PATCH /api/settings`` and is rebuilt
from the API's answer (the settings in force). "Reset" sends ``null``: the
config file's value is back. Where data lives stays the config file's.
"""

from nicegui import ui
from nicegui.page_arguments import PageArguments

from ..session import Session, guarded
from ..setting_fields import Form, patch_settings
from ..widgets import loading, page_title

PROFILES = {
    "pi": "Raspberry Pi or another small board: heavy plugins (audio analysis, vectors) are off by default "
          "and run one at a time.",
    "desktop": "A desktop or laptop: every plugin that can run here is on.",
    "server": "An always-on server: every plugin that can run here is on.",
}
SCANNING = {
    "library": {"follow_symlinks": "Follow symbolic links"},
    "scanner": {"keep_missing": "Keep vanished files (mark them missing instead of deleting their tracks)",
                "batch_size": "Batch size (rows per database transaction)",
                "read_workers": "Tag-reading processes (0: a thread)"},
}
JOBS = {
    "embedded_workers": "Jobs at once (embedded, no Redis)",
    "enrich_every_s": "Enrichment sweep every (s)",
    "covers_every_s": "Cover sweep every (s)",
    "vectors_every_s": "Vector sweep every (s)",
    "retries_every_s": "Retry sweep every (s)",
    "maintenance_every_s": "Maintenance every (s)",
    "worker_heartbeat_s": "A silent worker is dead after (s)",
}
FILE_ONLY = ("config_file", "data_dir", "database_url", "redis_url")


async def settings(args: PageArguments) -> None:
    session: Session = args.data["session"]
    page_title("Settings", "Changes are stored in the library's database and in force at once; "
                           "reset brings back the config file's value.")
    spinner = loading()
    config = await guarded(session.api.get("/api/settings"))
    spinner.delete()
    if config is None:
        return

    async def change(patch: dict, done: str, card) -> bool:
        answer = await patch_settings(session, patch, done)
        if answer is not None:
            config.update(answer)
            card.refresh()
        return answer is not None

    @ui.refreshable
    def profile_card() -> None:
        with ui.card().classes("sb-settings-section sb-profile").props("flat bordered"):
            _heading("Hardware profile", lambda: change({"profile": None}, "Profile from the config file",
                                                       profile_card))
            choice = ui.radio({name: f"{name} — {text}" for name, text in PROFILES.items()},
                              value=config["profile"]).classes("sb-profile-choice")

            async def chosen(e) -> None:
                if e.value != config["profile"] and not await change({"profile": e.value}, f"Profile: {e.value}",
                                                                     profile_card):
                    choice.set_value(config["profile"])

            choice.on_value_change(chosen)

    @ui.refreshable
    def roots_card() -> None:
        roots: list[str] = config["library"]["roots"]
        with ui.card().classes("sb-settings-section sb-roots").props("flat bordered"):
            _heading("Library folders", lambda: change({"library": {"roots": None}},
                                                       "Library folders from the config file", roots_card))
            if not roots:
                ui.label("No folder yet: add the folder holding your music.").classes("sb-muted")
            for root in roots:
                with ui.row().classes("w-full items-center no-wrap sb-root").props(f'data-root="{root}"'):
                    ui.icon("folder").classes("sb-muted")
                    ui.label(root).classes("col ellipsis").tooltip(root)
                    ui.button(icon="delete", on_click=lambda r=root: change(
                        {"library": {"roots": [x for x in roots if x != r]}}, f"Removed {r}", roots_card))\
                        .props("flat round dense aria-label='Remove folder'").classes("sb-root-remove")
            with ui.row().classes("w-full items-center no-wrap"):
                folder = ui.input("Add a folder (absolute path on the server)").props("dense outlined")\
                    .classes("col-grow sb-root-new")

                async def add() -> None:
                    path = folder.value.strip()
                    if path:
                        await change({"library": {"roots": roots + [path]}}, f"Added {path}", roots_card)

                folder.on("keydown.enter", add)
                ui.button("Add", on_click=add).props("unelevated color=primary").classes("sb-root-add")

    @ui.refreshable
    def scanning_card() -> None:
        with ui.card().classes("sb-settings-section sb-scanning").props("flat bordered"):
            ui.label("Scanning").classes("text-subtitle1 text-weight-bold")
            forms = {section: Form({k: config[section][k] for k in labels if k in config[section]}, labels,
                                   on_reset=lambda k, s=section: change({s: {k: None}}, f"{k} from the config file",
                                                                        scanning_card))
                     for section, labels in SCANNING.items()}
            _save_button(lambda: {s: f.changes() for s, f in forms.items() if f.changes()}, change, scanning_card)

    @ui.refreshable
    def jobs_card() -> None:
        with ui.card().classes("sb-settings-section sb-jobs").props("flat bordered"):
            ui.label("Background jobs").classes("text-subtitle1 text-weight-bold")
            form = Form({k: config["jobs"][k] for k in JOBS if k in config["jobs"]}, JOBS,
                        on_reset=lambda k: change({"jobs": {k: None}}, f"{k} from the config file", jobs_card))
            _save_button(lambda: {"jobs": form.changes()} if form.changes() else {}, change, jobs_card)

    with ui.element("div").classes("sb-plugin-grid w-full"):
        profile_card()
        roots_card()
        scanning_card()
        jobs_card()
        with ui.card().classes("sb-settings-section sb-file-only").props("flat bordered"):
            ui.label("Config file only").classes("text-subtitle1 text-weight-bold")
            for name in FILE_ONLY:
                _file_value(name, config.get(name))
            _file_value("api.cors_origins", ", ".join(config.get("api", {}).get("cors_origins", [])))
            ui.label("Where data lives and how the API is exposed: edit the config file and restart.")\
                .classes("text-caption sb-muted")


def _file_value(name: str, value) -> None:
    with ui.column().classes("gap-0 w-full").props(f'data-setting="{name}"'):
        ui.label(name).classes("text-caption sb-muted")
        ui.label(str(value) if value else "—").classes("ellipsis w-full").tooltip(str(value or ""))


def _heading(title: str, reset) -> None:
    with ui.row().classes("w-full items-center no-wrap"):
        ui.label(title).classes("text-subtitle1 text-weight-bold")
        ui.space()
        ui.button("Reset", icon="settings_backup_restore", on_click=reset)\
            .props("flat dense no-caps size=sm").classes("sb-reset").tooltip("Back to the config file's value")


def _save_button(patch, change, card) -> None:
    async def save() -> None:
        wanted = patch()
        if not wanted:
            ui.notify("Nothing changed")
            return
        await change(wanted, "Saved " + ", ".join(k for values in wanted.values() for k in values), card)

    with ui.row().classes("w-full justify-end"):
        ui.button("Save", on_click=save).props("unelevated color=primary").classes("sb-save")
