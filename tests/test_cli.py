"""The command line as a script would drive it: the installed ``soniquebay`` in a subprocess."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import install_entry_points

SONIQUEBAY = shutil.which("soniquebay", path=str(Path(sys.executable).parent))


@pytest.fixture
def run(tmp_path, db_url):
    config = tmp_path / "config.toml"
    config.write_text('[plugins.lastfm_example]\napi_key = "s3cret-key"\n')
    env = {**os.environ, "SONIQUEBAY_CONFIG": str(config), "SONIQUEBAY_DATA_DIR": str(tmp_path / "data"),
           "SONIQUEBAY_DATABASE_URL": db_url, "SONIQUEBAY_PROFILE": "pi"}
    env.pop("SONIQUEBAY_REDIS_URL", None)

    def run(*args: str, check: bool = True, extra_env: dict | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run([SONIQUEBAY, *args], env={**env, **(extra_env or {})}, capture_output=True,
                              text=True, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"soniquebay {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
        return proc

    return run


def test_demo_library_scan_ls_stats(run, tmp_path):
    music = tmp_path / "demo"
    run("demo-library", str(music))
    summary = json.loads(run("scan", str(music), "--format", "json").stdout)
    assert summary["status"] == "completed"
    assert summary["new"] == summary["files_seen"] == 23 and summary["errors"] == 0

    lines = run("ls", "--format", "json").stdout.splitlines()
    tracks = [json.loads(line) for line in lines]
    assert len(tracks) == 23
    for key in ("path", "title", "artists", "album", "albumartist", "track_number", "disc_number", "year",
                "genres", "duration", "format", "bitrate", "stages"):
        assert key in tracks[0]
    two_discs = [t for t in tracks if t["album"] == "Two Floors Up"]
    assert sorted({t["disc_number"] for t in two_discs}) == [1, 2]
    assert {t["disc_total"] for t in two_discs} == {2}

    found = [json.loads(x) for x in run("ls", "--format", "json", "artist:hermanos cafe").stdout.splitlines()]
    assert {t["title"] for t in found} == {"Café con Leche", "Siesta", "La Última Ronda", "Madrugada", "Neón"}
    feat = next(t for t in found if t["title"] == "Neón")
    assert feat["artists"] == ["Los Hermanos Café", "Aurora Lines"]
    assert run("ls", "year:2019", "genre:electro").stdout.count("\n") == 5
    assert "Found On A Tape" in run("ls", "untagged").stdout  # album named after its folder

    stats = json.loads(run("stats", "--format", "json").stdout)
    assert (stats["tracks"], stats["albums"], stats["genres"]) == (23, 6, 4)
    assert stats["last_scan"]["status"] == "completed"

    again = json.loads(run("scan", "--format", "json").stdout)  # no path: the remembered root
    assert again["unchanged"] == 23 and again["new"] == 0


def test_plugins_and_config(run, tmp_path):
    plugins = {p["id"]: p for p in json.loads(run("plugins", "--format", "json").stdout)}
    assert plugins["tags"]["enabled"] and plugins["tags"]["hooks"] == ["read_tags"]
    assert plugins["ignore"]["resource_class"] == "light"
    text = run("plugins").stdout
    assert "tags" in text and "essential" in text

    config = json.loads(run("config", "--format", "json").stdout)
    assert config["profile"] == "pi"
    assert config["plugins"]["lastfm_example"]["api_key"] == "***"
    assert "s3cret-key" not in run("config").stdout
    secret_url = "postgresql://sb:hunter2@db.example/lib"
    shown = run("config", extra_env={"SONIQUEBAY_DATABASE_URL": secret_url}).stdout
    assert "hunter2" not in shown and "db.example" in shown


def test_errors_are_one_line_with_nonzero_exit(run, tmp_path):
    missing = run("scan", str(tmp_path / "nowhere"), check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"soniquebay: no such folder: {tmp_path / 'nowhere'}"

    bad_query = run("ls", "year:soon", check=False)
    assert bad_query.returncode == 1 and "not a number or range" in bad_query.stderr
    assert len(bad_query.stderr.strip().splitlines()) == 1

    bad_profile = run("stats", check=False, extra_env={"SONIQUEBAY_PROFILE": "laptop"})
    assert bad_profile.returncode == 1 and "invalid setting profile" in bad_profile.stderr

    (tmp_path / "broken.toml").write_text("profile = [unclosed")
    broken = run("stats", check=False, extra_env={"SONIQUEBAY_CONFIG": str(tmp_path / "broken.toml")})
    assert broken.returncode == 1 and "cannot read config file" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_unreachable_database_is_a_clear_error(run):
    proc = run("stats", check=False,
               extra_env={"SONIQUEBAY_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert proc.returncode == 1
    assert proc.stderr.startswith("soniquebay: cannot open the library database at postgresql://nobody@")
    assert "Traceback" not in proc.stderr


def test_plugins_can_add_commands(run, tmp_path):
    site = install_entry_points(tmp_path / "site", "sb-cmd-demo", {"async_sources": "sb_async_sources"})
    fakes = Path(__file__).parent / "fake_plugins"
    path = os.pathsep.join([str(site), str(fakes)])
    proc = run("hello-plugin", extra_env={"PYTHONPATH": path})
    assert proc.stdout.strip() == "hello from a plugin"
