"""Shared fixtures (loaded by the root conftest.py): the shared test data, fresh settings, both databases."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from corpus import SHARED
from helpers import other_plugins_off, server_missing


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout; tests that need it skip only when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared test data not found at {SHARED}")
    return SHARED.resolve()  # the scanner stores resolved paths


@pytest.fixture(scope="session")
def corpus_dir(shared_dir: Path) -> Path:
    return shared_dir / "corpus" / "real"


# -- databases ---------------------------------------------------------------------------------

PG_ADMIN_URL = os.environ.get("SONIQUEBAY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


async def _pg_admin(sql: str) -> None:
    import asyncpg
    from sqlalchemy import make_url

    admin = make_url(PG_ADMIN_URL)
    conn = await asyncpg.connect(user=admin.username, host=admin.host, port=admin.port or 5432,
                                 database=admin.database, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def pg_url():
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import uuid

    from sqlalchemy import make_url

    name = f"sb_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        server_missing(f"PostgreSQL at {PG_ADMIN_URL}", exc)
    yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Every database test runs on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'library.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def settings(tmp_path, db_url):
    """Fresh settings on either database. Plugins of other distributions (plugins/*, installed beside the
    core) are off: a test turns on the ones it is about, so the core's tests see only the core's plugins."""
    from soniquebay_core.config import Settings

    return Settings(data_dir=tmp_path / "data", database_url=db_url, plugins=other_plugins_off())


@pytest.fixture
def host(settings):
    from soniquebay_core.plugins import load_plugins

    return load_plugins(settings, strict=True)


@pytest.fixture
async def db(settings):
    from soniquebay_core.db import Database

    database = await Database.open(settings.effective_database_url)
    yield database
    await database.close()


# -- generated libraries -------------------------------------------------------------------------

def make_library(shared: Path, out: Path, tracks: int, seed: int, corrupt_rate: float = 0.02) -> dict:
    """Run the team's generator (needs ffmpeg) and return its manifest."""
    import json
    import shutil
    import subprocess
    import sys

    if shutil.which("ffmpeg") is None:
        server_missing("ffmpeg (needed by make_library.py)", "not on PATH")
    subprocess.run([sys.executable, str(shared / "tools" / "make_library.py"), str(out), "--tracks", str(tracks),
                    "--seed", str(seed), "--corrupt-rate", str(corrupt_rate), "--quiet"],
                   check=True, capture_output=True)
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def generated_master(shared_dir, tmp_path_factory) -> tuple[Path, dict]:
    """A 300-track generated library, made once per test session; copy it before changing it."""
    out = tmp_path_factory.mktemp("generated") / "library"
    return out, make_library(shared_dir, out, tracks=300, seed=7)


@pytest.fixture
def library(generated_master, tmp_path) -> tuple[Path, dict]:
    """A private copy of the generated library (symlinks kept as links)."""
    import shutil

    master, manifest = generated_master
    copy = tmp_path / "music"
    shutil.copytree(master, copy, symlinks=True)
    return copy, manifest


# -- plugins -----------------------------------------------------------------------------------

@pytest.fixture
def fake_plugins(monkeypatch):
    """Put tests/fake_plugins on sys.path and give each test fresh fake-plugin state."""
    import importlib
    import sys

    monkeypatch.syspath_prepend(str(Path(__file__).parent / "fake_plugins"))
    if "sb_recorder" in sys.modules:
        recorder = importlib.import_module("sb_recorder")
        recorder.discovered.clear()
        recorder.read.clear()
    if "sb_flaky" in sys.modules:
        importlib.import_module("sb_flaky").attempts.clear()
    return {
        "recorder": "sb_recorder", "raiser": "sb_raiser", "heavy": "sb_heavy", "needs_binary": "sb_needs_binary",
        "broken": "sb_broken_import", "misspelt": "sb_misspelt_hook", "no_manifest": "sb_no_manifest",
        "ignore_flac": "sb_ignore_flac", "async_sources": "sb_async_sources", "stages": "sb_stages",
        "routes": "sb_routes",
        "flaky": "sb_flaky", "broken_stage": "sb_broken_stage", "slow": "sb_slow", "limited": "sb_limited",
    }


# -- the API -------------------------------------------------------------------------------------

@pytest.fixture
async def app_and_tokens(settings, library):
    """An app whose library holds the generated library, with an admin and a reader token."""
    from soniquebay_core import auth
    from soniquebay_core.api.app import create_app

    root, manifest = library
    app = create_app(settings, periodic_sweeps=False)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        await runtime.scan([root])
        async with runtime.db.engine.begin() as conn:
            admin = await auth.add_user(conn, "ada", "correct horse", "admin")
            reader = await auth.add_user(conn, "rex", "battery staple", "reader")
            tokens = {"admin": await auth.issue_token(conn, admin, "tests"),
                      "reader": await auth.issue_token(conn, reader, "tests")}
        yield app, tokens, root, manifest


@pytest.fixture
async def api(app_and_tokens):
    """A client signed in as the admin."""
    import httpx

    app, tokens, root, manifest = app_and_tokens
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                 headers={"Authorization": f"Bearer {tokens['admin']}"}) as client:
        yield client, root, manifest
