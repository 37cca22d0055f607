"""End to end: scan real audio, the pipeline runs the analysis, ls / the API / filters show the results."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from analysis_truth import generator, write_groove

SONIQUEBAY = shutil.which("soniquebay", path=str(Path(sys.executable).parent))


@pytest.fixture(scope="module")
def music_master(shared_dir, tmp_path_factory) -> Path:
    gen = generator(shared_dir)
    root = tmp_path_factory.mktemp("analysis-music")
    write_groove(gen, root / "groove in G.flac", 7, "major", [(0.0, 96.0)], 20.0, seed=11)
    wav = root / "a minor.wav"
    write_groove(gen, wav, 9, "minor", [(0.0, 128.0)], 20.0, seed=12)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-c:a", "libmp3lame", "-b:a", "192k",
                    str(root / "driving in A minor.mp3")], check=True)
    wav.unlink()
    return root


@pytest.fixture
def run(tmp_path, db_url, music_master):
    config = tmp_path / "config.toml"
    config.write_text("[plugins.vectors]\nenabled = false\n[plugins.covers]\nenabled = false\n")
    music = tmp_path / "music"
    shutil.copytree(music_master, music)
    env = {**os.environ, "SONIQUEBAY_CONFIG": str(config), "SONIQUEBAY_DATA_DIR": str(tmp_path / "data"),
           "SONIQUEBAY_DATABASE_URL": db_url, "SONIQUEBAY_PROFILE": "desktop"}
    env.pop("SONIQUEBAY_REDIS_URL", None)

    def run(*args: str, profile: str = "desktop") -> str:
        done = subprocess.run([SONIQUEBAY, *args], env={**env, "SONIQUEBAY_PROFILE": profile},
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run.music = music
    return run


def ls(run, *query: str) -> list[dict]:
    out = run("ls", *query, "--format", "json")
    return json.loads(out) if out.lstrip().startswith("[") else [json.loads(line) for line in out.splitlines()]


def test_scan_analyses_and_ls_filters(run):
    run("scan", str(run.music), "--format", "json")
    tracks = {Path(t["path"]).name: t for t in ls(run)}
    groove, driving = tracks["groove in G.flac"], tracks["driving in A minor.mp3"]
    assert groove["bpm"] == pytest.approx(96.0, rel=0.01) and groove["key"] == "G major"
    assert driving["bpm"] == pytest.approx(128.0, rel=0.01) and driving["key"] == "A minor"
    assert driving["features"]["camelot"] == "8A" and driving["features"]["tempo_meaningful"] is True
    assert {"loudness_lufs", "energy", "danceability", "spectral_centroid_hz", "key_confidence"} \
        <= set(groove["features"])
    assert groove["stages"]["analysis.enrich_track"]["status"] == "done"
    assert [t["key"] for t in ls(run, "bpm:120..130")] == ["A minor"]
    assert [t["bpm"] for t in ls(run, "key:G major")] == [groove["bpm"]]
    assert [t["key"] for t in ls(run, "feature:camelot=9B")] == ["G major"]
    assert len(ls(run, "feature:tempo_meaningful=true", "feature:energy=0..1")) == 2


def test_pi_profile_leaves_analysis_off(run):
    run("scan", str(run.music), "--format", "json", profile="pi")
    tracks = ls(run)
    assert len(tracks) == 2
    assert all(t["bpm"] is None and t["key"] is None and "analysis.enrich_track" not in t["stages"]
               for t in tracks)


async def test_api_shows_and_filters_analysis(tmp_path, db_url, music_master):
    from soniquebay_core import auth
    from soniquebay_core.api.app import create_app
    from soniquebay_core.config import Settings

    music = tmp_path / "music"
    shutil.copytree(music_master, music)
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, profile="desktop",
                        plugins={"vectors": {"enabled": False}, "covers": {"enabled": False}})
    app = create_app(settings, periodic_sweeps=False)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        await runtime.scan([music])
        await runtime.sweep()
        await runtime.wait_idle()
        async with runtime.db.engine.begin() as conn:
            token = await auth.issue_token(conn, await auth.add_user(conn, "ada", "correct horse", "admin"), "t")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                     headers={"Authorization": f"Bearer {token}"}) as api:
            page = (await api.get("/api/tracks", params={"bpm_min": 120, "bpm_max": 130})).json()
            assert [t["key"] for t in page["items"]] == ["A minor"]
            page = (await api.get("/api/tracks", params={"key": "G major"})).json()
            assert page["total"] == 1 and page["items"][0]["features"]["camelot"] == "9B"
            page = (await api.get("/api/tracks", params=[("feature", "camelot=8A"),
                                                          ("feature", "tempo_meaningful=true")])).json()
            assert [t["bpm"] for t in page["items"]] == [pytest.approx(128.0, rel=0.01)]
            one = (await api.get(f"/api/tracks/{page['items'][0]['id']}/features")).json()
            assert one["key"] == "A minor" and one["features"]["key_meaningful"] is True
            refused = await api.get("/api/tracks", params={"feature": "camelot"})
            assert refused.status_code == 400
