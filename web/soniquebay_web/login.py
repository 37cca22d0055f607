"""The login page. The form posts straight to ``/api/auth/login`` from the browser, so the
password goes only there and the session cookie (HttpOnly) is set by the API itself."""
from __future__ import annotations

import json
from urllib.parse import urlparse

from nicegui import ui

FORM = """
<form id="sb-login" class="column q-gutter-md" autocomplete="on">
  <label class="sb-field"><span>Name</span>
    <input name="name" autocomplete="username" required autofocus></label>
  <label class="sb-field"><span>Password</span>
    <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit" class="sb-login-button">Log in</button>
  <div class="sb-login-error" role="alert"></div>
</form>"""

SCRIPT = """
<script>
document.addEventListener("submit", async (e) => {
  if (e.target.id !== "sb-login") return;
  e.preventDefault();
  const form = e.target, error = form.querySelector(".sb-login-error");
  error.textContent = "";
  const body = JSON.stringify({name: form.name.value, password: form.password.value});
  const answer = await fetch("/api/auth/login", {method: "POST", headers: {"Content-Type": "application/json"}, body});
  if (answer.ok) { location.assign(SB_NEXT); return; }
  const detail = await answer.json().catch(() => ({}));
  error.textContent = detail?.error?.message || "Could not log in";
});
</script>"""


def _safe_next(target: str) -> str:
    """Only paths on this site: ``?next=`` must not send the user elsewhere."""
    parsed = urlparse(target)
    return target if target.startswith("/") and not parsed.netloc and not target.startswith("//") else "/"


def register() -> None:
    @ui.page("/login", title="Log in · SoniqueBay")
    def login(next: str = "/") -> None:  # noqa: A002 - the query parameter's name
        ui.add_body_html(SCRIPT.replace("SB_NEXT", json.dumps(_safe_next(next))))
        ui.query("body").classes("sb-body")
        with ui.column().classes("absolute-center items-center sb-login"):
            ui.icon("graphic_eq", size="4em", color="primary")
            ui.label("SoniqueBay").classes("text-h4 text-weight-bold")
            ui.label("Your music, your server.").classes("sb-muted q-mb-md")
            with ui.card().classes("sb-login-card q-pa-lg"):
                ui.html(FORM, sanitize=False)
