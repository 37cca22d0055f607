"""Plugins (admins only): what runs, what it calls, what it is set to, and changing that."""

from collections import defaultdict

from nicegui import ui
from nicegui.page_arguments import PageArguments

from ..session import Session, guarded
from ..setting_fields import Form, parse_typed, patch_settings
from ..widgets import empty_state, loading, page_title


def admin_only(args: PageArguments) -> None:
    empty_state("lock", "Admins only", "Ask an admin of this library to change scans, plugins and settings.")


async def plugins(args: PageArguments) -> None:
    session: Session = args.data["session"]
    page_title("Plugins", "Switch plugins on and off and change their settings; each one's manifest says what it needs "
               "and whom it calls.")
    spinner = loading()
    found = await guarded(session.api.get("/api/plugins"))
    config = await guarded(session.api.get("/api/settings"))
    failed = await guarded(session.api.get("/api/jobs/failed"))
    spinner.delete()
    if found is None:
        return
    errors: dict[str, list[str]] = defaultdict(list)
    for row in (failed or {}).get("stages", []):
        errors[row["plugin"]].append((row.get("error") or "").strip().splitlines()[-1:][0]
                                     if row.get("error") else f"{row['stage']} failed")
    plugin_config = (config or {}).get("plugins", {})
    with ui.element("div").classes("sb-plugin-grid w-full"):
        for plugin in found:
            _plugin_card(session, plugin, plugin_config.get(plugin["id"], {}), errors.get(plugin["id"], []))


def _plugin_card(session: Session, plugin: dict, config: dict, errors: list[str]) -> None:
    with ui.card().classes("sb-plugin").props(f'flat bordered data-plugin="{plugin["id"]}"'):
        with ui.row().classes("w-full items-center no-wrap"):
            with ui.column().classes("gap-0"):
                ui.label(plugin["id"]).classes("text-subtitle1 text-weight-bold")
                ui.label(f"v{plugin.get('version') or '?'} · {plugin['status']}").classes("sb-muted text-caption")
            ui.space()
            switch = ui.switch(value=plugin["enabled"]).props("color=primary").classes("sb-plugin-switch")
            if plugin.get("essential"):
                switch.props("disable")
                switch.tooltip("Essential: always on")
        if plugin.get("description"):
            ui.label(plugin["description"]).classes("text-body2")
        with ui.row().classes("gap-1"):
            if plugin.get("resource_class"):
                heavy = plugin["resource_class"] == "heavy"
                ui.badge(plugin["resource_class"], color="orange" if heavy else "grey-6").classes("sb-resource")
            for hook in plugin.get("hooks", []):
                ui.badge(hook, color="grey-6").props("outline")
        if plugin.get("reason"):
            ui.label(plugin["reason"]).classes("text-caption text-warning sb-plugin-reason")
        hosts = plugin.get("network_hosts") or []
        ui.label("Calls " + ", ".join(f"{h['host']} ({h['reason']})" for h in hosts) if hosts
                 else "Calls no network host").classes("text-caption sb-muted sb-plugin-hosts")
        if plugin.get("requires_binaries"):
            ui.label("Needs " + ", ".join(plugin["requires_binaries"])).classes("text-caption sb-muted")
        if errors:
            with ui.expansion(f"{len(errors)} failed jobs", icon="error_outline").classes("w-full text-negative"):
                for line in errors[-5:]:
                    ui.label(line).classes("text-caption")
        with ui.expansion("Settings", icon="tune").classes("w-full sb-plugin-settings"):
            _settings_form(session, plugin["id"], config)

        async def switched(e) -> None:
            if e.value == plugin["enabled"]:
                return
            changed = await guarded(session.api.put(f"/api/plugins/{plugin['id']}", {"enabled": e.value}))
            if changed is None:
                switch.set_value(plugin["enabled"])
                return
            plugin.update(changed)
            ui.notify(f"{plugin['id']} {'enabled' if changed['enabled'] else 'disabled'}", type="positive")

        switch.on_value_change(switched)



def _settings_form(session: Session, plugin_id: str, config: dict) -> None:
    """The plugin's ``[plugins.<id>]`` block, editable; rebuilt from the API's answer after each change."""
    shown = {k: v for k, v in config.items() if k != "enabled"}  # the switch above is ``enabled``

    async def change(patch: dict, done: str) -> bool:
        answer = await patch_settings(session, {"plugins": {plugin_id: patch}}, done, refused.set_text)
        if answer is not None:
            shown.clear()
            shown.update({k: v for k, v in answer["plugins"].get(plugin_id, {}).items() if k != "enabled"})
            form.refresh()
        return answer is not None

    @ui.refreshable
    def form() -> None:
        refused.set_text("")
        if not shown:
            ui.label("No settings yet.").classes("text-caption sb-muted")
        fields = Form(shown, on_reset=lambda k: change({k: None}, f"{plugin_id}.{k} reset"))

        async def save() -> None:
            changes = fields.changes()
            if changes:
                await change(changes, f"{plugin_id}: saved {', '.join(changes)}")
            else:
                ui.notify("Nothing changed")

        with ui.row().classes("w-full justify-end"):
            ui.button("Save", on_click=save).props("unelevated dense color=primary").classes("sb-save")

    refused = ui.label().classes("text-caption text-negative sb-refused")
    form()
    with ui.row().classes("w-full items-center no-wrap gap-1 sb-add-setting"):
        key = ui.input("New setting").props("dense outlined").classes("col")
        value = ui.input("Value (true, 3, [1, 2] or text)").props("dense outlined").classes("col")

        async def add() -> None:
            name = key.value.strip()
            if not name:
                ui.notify("Name the setting", type="warning")
                return
            if await change({name: parse_typed(value.value)}, f"{plugin_id}.{name} added"):
                key.set_value("")
                value.set_value("")

        ui.button(icon="add", on_click=add).props("flat round dense aria-label='Add setting'")\
            .classes("sb-add-setting-button")
    ui.label(f"Stored in the library's database, over the config file's [plugins.{plugin_id}] block; "
             "reset brings the file's value back.").classes("text-caption sb-muted")
