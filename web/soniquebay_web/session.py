"""What one browser tab knows: who signed in, their API handle, their queue, live events."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from nicegui import ui

from .api import Api, ApiError
from .player import Queue


@dataclass
class Session:
    api: Api
    user: dict
    queue: Queue
    progress_listeners: list[Callable[[dict], bool]] = field(default_factory=list)

    @property
    def admin(self) -> bool:
        return self.user.get("role") == "admin"

    def on_progress(self, event: dict) -> None:
        """Hand a live event to the pages showing progress; a listener answering False is dropped."""
        self.progress_listeners = [listener for listener in self.progress_listeners if listener(event)]


async def guarded(action: Awaitable[Any]) -> Any:
    """Run an API call for a button: a refusal becomes a clear toast, not a stack trace."""
    try:
        return await action
    except ApiError as exc:
        ui.notify(exc.message, type="negative", close_button=True, multi_line=True)
        return None
