"""Plugins and settings (admins only): what runs, what it calls, what it is set to."""

from collections import defaultdict

from nicegui import ui
from nicegui.page_arguments import PageArguments

from ..session import Session, guarded
from ..widgets import empty_state, loading, page_title

SECRET = "***"  # how the API shows a secret it will not reveal


def admin_only(args: PageArguments) -> None:
    empty_state("lock", "Admins only", "Ask an admin of this library to change scans, plugins and settings.")


def _setting_field(name: str, value) -> None:
    """One setting, read-only: secrets stay masked (the API never sends them)."""
    if isinstance(value, bool):
        ui.switch(name, value=value).props("disable")
    elif value == SECRET:
        ui.input(name, value="secret", password=True).props("dense outlined readonly").classes("w-full sb-secret")
    else:
        shown = ", ".join(map(str, value)) if isinstance(value, list) else "" if value is None else str(value)
        ui.input(name, value=shown).props("dense outlined readonly").classes("w-full")


async def plugins(args: PageArguments) -> None:
    session: Session = args.data["session"]
    page_title("Plugins", "Switch plugins on and off; each one's manifest says what it needs and whom it calls.")
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
        if config:
            with ui.expansion("Settings", icon="tune").classes("w-full sb-plugin-settings"):
                for name, value in config.items():
                    _setting_field(name, value)
                ui.label("Change these in the config file's [plugins." + plugin["id"] + "] block.")\
                    .classes("text-caption sb-muted")

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


async def settings(args: PageArguments) -> None:
    session: Session = args.data["session"]
    page_title("Settings", "The settings in force (secrets hidden); change them in the config file.")
    spinner = loading()
    config = await guarded(session.api.get("/api/settings"))
    spinner.delete()
    if config is None:
        return
    with ui.element("div").classes("sb-plugin-grid w-full"):
        general = {k: v for k, v in config.items() if not isinstance(v, dict)}
        sections = [("General", general)] + [(k.capitalize(), v) for k, v in config.items()
                                             if isinstance(v, dict) and k != "plugins"]
        for title, values in sections:
            with ui.card().classes("sb-settings-section").props("flat bordered"):
                ui.label(title).classes("text-subtitle1 text-weight-bold")
                for name, value in values.items():
                    _setting_field(name, value)
