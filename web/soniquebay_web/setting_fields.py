"""Settings as form fields, one input per setting typed by its value, saved through ``PATCH /api/settings``.

The API answers every change with the settings in force, so a form is rebuilt
from that answer rather than trusting what was typed. A secret arrives masked
(``***``): its input starts empty and is sent only when the user types a new one.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nicegui import ui

from .api import ApiError
from .session import Session

SECRET = "***"  # how the API shows a secret it will not reveal
UNCHANGED = object()  # what a field answers when there is nothing to send


def parse_typed(text: str) -> Any:
    """A value typed for a new setting: JSON when it reads as JSON (true, 3, [1, 2]), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


class Field:
    """One setting's input; ``change()`` is the value to send, or ``UNCHANGED``."""

    def __init__(self, name: str, value: Any, label: str | None = None, on_reset: Callable | None = None):
        self.name, self.original = name, value
        label = label or name
        with ui.row().classes("w-full items-center no-wrap gap-1 sb-setting").props(f'data-setting="{name}"'):
            self.input = self._input(label, value)
            if on_reset is not None:
                ui.button(icon="settings_backup_restore", on_click=lambda: on_reset(name))\
                    .props("flat round dense size=sm aria-label='Reset to the config file'")\
                    .classes("sb-reset").tooltip("Back to the config file's value")

    def _input(self, label: str, value: Any) -> ui.element:
        if isinstance(value, bool):
            return ui.switch(label, value=value).classes("sb-setting-input")
        if isinstance(value, int | float):
            return ui.number(label, value=value, precision=0 if isinstance(value, int) else None)\
                .props("dense outlined").classes("sb-setting-input")
        if isinstance(value, list):
            return ui.input_chips(label, value=[str(v) for v in value], new_value_mode="add-unique")\
                .props("dense outlined hint='Enter adds an item'").classes("sb-setting-input")
        if value == SECRET:
            return ui.input(label, password=True).classes("sb-setting-input sb-secret")\
                .props("dense outlined autocomplete=new-password hint='Hidden: type a new one to replace it'")
        if isinstance(value, dict):
            return ui.input(label, value=json.dumps(value)).props("dense outlined readonly").classes("sb-setting-input")
        return ui.input(label, value="" if value is None else str(value)).props("dense outlined")\
            .classes("sb-setting-input")

    def change(self) -> Any:
        value, original = self.input.value, self.original
        if isinstance(original, dict):
            return UNCHANGED
        if original == SECRET:
            return value if value else UNCHANGED
        if isinstance(original, bool):
            new = bool(value)
        elif isinstance(original, int | float):
            if value is None:
                return UNCHANGED  # an emptied number box: nothing to send
            new = int(value) if isinstance(original, int) and float(value).is_integer() else value
        elif isinstance(original, list):
            numeric = bool(original) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                              for v in original)
            new = [parse_typed(v) if numeric else v for v in value or []]
        else:
            new = value if value != "" or original is not None else None
        return UNCHANGED if new == original else new


class Form:
    """Fields for a block of settings; ``changes()`` holds only what the user changed."""

    def __init__(self, values: dict, labels: dict[str, str] | None = None, on_reset: Callable | None = None):
        self.fields = [Field(name, value, (labels or {}).get(name), on_reset) for name, value in values.items()]

    def changes(self) -> dict:
        found = {f.name: f.change() for f in self.fields}
        return {name: value for name, value in found.items() if value is not UNCHANGED}


async def patch_settings(session: Session, patch: dict, done: str,
                         refused: Callable[[str], None] | None = None) -> dict | None:
    """Send a change; the API's refusal becomes a toast (and ``refused(message)``), success a short one."""
    try:
        config = await session.api.patch("/api/settings", patch)
    except ApiError as exc:
        if refused is not None:
            refused(exc.message)
        ui.notify(exc.message, type="negative", close_button=True, multi_line=True)
        return None
    ui.notify(done, type="positive")
    return config

