"""A real ``soniquebay serve`` and Debian's chromium, for the end-to-end tests and the web benchmark."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking switches chromium dials out at start and, on a closed network,
# its refused connections end up as console noise.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]
ARTIFACTS = Path(__file__).parent / "artifacts"


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None. In CI a missing browser is a failure, not a skip."""
    if CHROMIUM.exists():
        return None
    reason = f"Debian's chromium is not installed at {CHROMIUM} (apt install chromium)"
    if os.environ.get("CI") == "true":
        raise RuntimeError(reason)
    return reason


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``soniquebay serve`` in a child process with its own config file and data folder."""

    def __init__(self, home: Path, roots: list[Path] = (), database_url: str | None = None,
                 profile: str = "desktop", plugins: dict[str, dict] | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        home.mkdir(parents=True, exist_ok=True)
        lines = [f"profile = {json.dumps(profile)}", f"data_dir = {json.dumps(str(home / 'data'))}"]
        if database_url:
            lines.append(f"database_url = {json.dumps(database_url)}")
        lines += ["[library]", f"roots = {json.dumps([str(r) for r in roots])}"]
        for plugin, values in (plugins or {}).items():
            lines += [f"[plugins.{plugin}]", *(f"{k} = {json.dumps(v)}" for k, v in values.items())]
        self.config = home / "config.toml"
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.env = {**os.environ, "SONIQUEBAY_CONFIG": str(self.config), "SONIQUEBAY_REDIS_URL": ""}
        self.process: subprocess.Popen | None = None

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "-m", "soniquebay_core.cli", *args], env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"soniquebay {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout

    def add_user(self, name: str, password: str, role: str) -> None:
        self.cli("user", "add", name, "--role", role, "--password-stdin", stdin=password + "\n")

    def start(self, timeout: float = 60) -> None:
        log = open(self.home / "serve.log", "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen([sys.executable, "-m", "soniquebay_core.cli", "serve", "--port",
                                         str(self.port)], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited: {(self.home / 'serve.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"serve did not answer /api/health within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return (self.home / "serve.log").read_text(encoding="utf-8", errors="replace")


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def log_in(page, url: str, name: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#sb-login input[name=name]", name)
    page.fill("#sb-login input[name=password]", password)
    page.click("#sb-login button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
