"""Scans through a running server, as the web interface's Scan button starts them: ``POST /api/scans``.

One ``soniquebay serve --no-web`` (fresh data dir, default SQLite, every plugin but the built-in tag reader
and ignore rules switched off, so a scan is the scan alone, as with ``scan --no-stages``) scans the library
once in full, then rescans it unchanged. Each is timed from the client: from the POST until polling
``GET /api/scans/tasks/{id}`` (every 5 ms) sees it completed. The server is started and signed in to before
any timing, so what a command-line scan pays before and after its work (Python start-up, imports, opening
the database, exit: ~1.3 s here) is not in these numbers; the command-line runs of ``scan_bench.py`` are.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from importlib.metadata import entry_points
from pathlib import Path

import httpx

BUILT_IN = ("tags", "ignore")
ADMIN = ("bench", "bench password")


def _config(library: Path) -> str:
    """The library as the one library folder; every installed plugin but the built-in ones off; the periodic
    sweeps pushed past the run."""
    others = sorted({ep.name for ep in entry_points(group="soniquebay")} - set(BUILT_IN))
    plugins = "".join(f"[plugins.{name}]\nenabled = false\n" for name in others)
    sweeps = "".join(f"{kind}_every_s = 86400\n" for kind in ("enrich", "covers", "vectors", "retries"))
    return f"[library]\nroots = [{json.dumps(str(library))}]\n{plugins}[jobs]\n{sweeps}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(client: httpx.Client, server: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"soniquebay serve exited with {server.returncode}")
        try:
            if client.get("/api/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("soniquebay serve did not answer /api/health in time")


def _scan(client: httpx.Client, library: Path, timeout_s: float) -> dict:
    started = time.perf_counter()
    answer = client.post("/api/scans", json={"path": str(library)})
    answer.raise_for_status()
    status_url = answer.json()["status_url"]
    deadline = time.monotonic() + timeout_s
    while (state := client.get(status_url).json())["status"] == "running":
        if time.monotonic() > deadline:
            raise RuntimeError("a served scan did not finish in time")
        time.sleep(0.005)
    wall_s = time.perf_counter() - started
    if state["status"] != "completed":
        raise RuntimeError(f"a served scan ended {state['status']}: {state.get('error')}")
    result = state["result"]
    return {"wall_s": round(wall_s, 4), "duration_s": result["duration_s"], "new": result["new"],
            "changed": result["changed"], "unchanged": result["unchanged"], "errors": result["errors"]}


def served_scans(soniquebay: str, library: Path, work: Path, rescans: int, timeout_s: float) -> dict:
    """A full scan and ``rescans`` rescans of ``library`` through one server: times and their ratio."""
    data_dir = Path(tempfile.mkdtemp(prefix="served-", dir=work))
    config = data_dir / "config.toml"
    config.write_text(_config(library))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SONIQUEBAY_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(SONIQUEBAY_CONFIG=str(config), SONIQUEBAY_DATA_DIR=str(data_dir),
               SONIQUEBAY_ADMIN_USER=ADMIN[0], SONIQUEBAY_ADMIN_PASSWORD=ADMIN[1])
    port = _free_port()
    with open(data_dir / "server.log", "wb") as server_log:
        server = subprocess.Popen([soniquebay, "serve", "--no-web", "--port", str(port)], env=env,
                                  stdin=subprocess.DEVNULL, stdout=server_log, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            _wait_healthy(client, server)
            client.post("/api/auth/login", json={"name": ADMIN[0], "password": ADMIN[1]}).raise_for_status()
            runs = [_scan(client, library, timeout_s) for _ in range(1 + rescans)]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
    full, again = runs[0], runs[1:]
    rescan_s = statistics.median(r["wall_s"] for r in again)
    rescan_in_scan_s = statistics.median(r["duration_s"] for r in again)
    return {"full_s": full["wall_s"], "rescan_s": round(rescan_s, 4),
            "full_in_scan_s": full["duration_s"], "rescan_in_scan_s": round(rescan_in_scan_s, 4),
            "rescan_speedup": round(full["wall_s"] / rescan_s, 2), "runs": runs}
