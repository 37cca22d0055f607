"""The REST API against a real scanned library, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx


async def test_tracks_paginate_filter_and_sort(api):
    client, root, manifest = api
    first = (await client.get("/api/tracks", params={"limit": 10})).json()
    good = [t for t in manifest["tracks"] if not t["corrupt"]]
    assert first["total"] >= len(good) and len(first["items"]) == 10
    second = (await client.get("/api/tracks", params={"limit": 10, "offset": 10})).json()
    assert not {t["id"] for t in first["items"]} & {t["id"] for t in second["items"]}

    nineties = (await client.get("/api/tracks", params={"year_min": 1990, "year_max": 1999, "limit": 500})).json()
    expected = {str(root / t["path"]) for t in good if t["year"] and 1990 <= t["year"] <= 1999}
    assert {t["path"] for t in nineties["items"]} == expected and nineties["total"] == len(expected)

    flac = (await client.get("/api/tracks", params={"format": "flac", "sort": "-year", "limit": 500})).json()
    years = [t["year"] for t in flac["items"] if t["year"] is not None]
    assert years == sorted(years, reverse=True) and {t["format"] for t in flac["items"]} == {"flac"}

    one = flac["items"][0]
    detail = (await client.get(f"/api/tracks/{one['id']}")).json()
    assert detail["path"] == one["path"] and "stages" in detail


async def test_albums_and_artists(api):
    client, root, manifest = api
    albums = (await client.get("/api/albums", params={"limit": 500})).json()
    assert albums["total"] == len(manifest["albums"])
    titles = [a["title"] for a in albums["items"]]
    assert titles == sorted(titles, key=lambda t: __import__("soniquebay_core.text", fromlist=["fold"]).fold(t))
    multi = next(a for a in manifest["albums"] if a["discs"] > 1)
    album = next(a for a in albums["items"] if a["title"] == multi["album"])
    detail = (await client.get(f"/api/albums/{album['id']}")).json()
    discs = [t["disc_number"] for t in detail["tracks"]]
    assert discs == sorted(discs) and len(set(discs)) == multi["discs"]
    assert detail["tracks"] and detail["tracks"][0]["album"] == multi["album"]

    artists = (await client.get("/api/artists", params={"sort": "-tracks", "limit": 5})).json()
    counts = [a["tracks"] for a in artists["items"]]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
    artist = (await client.get(f"/api/artists/{artists['items'][0]['id']}")).json()
    assert artist["name"] == artists["items"][0]["name"] and isinstance(artist["albums"], list)


async def test_stream_with_ranges_and_caching(api):
    client, root, manifest = api
    track = (await client.get("/api/tracks", params={"format": "flac", "limit": 1})).json()["items"][0]
    data = Path(track["path"]).read_bytes()
    whole = await client.get(f"/api/tracks/{track['id']}/stream")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "audio/flac" and whole.headers["accept-ranges"] == "bytes"
    assert "etag" in whole.headers and "last-modified" in whole.headers
    part = await client.get(f"/api/tracks/{track['id']}/stream", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    cached = await client.get(f"/api/tracks/{track['id']}/stream",
                              headers={"If-None-Match": whole.headers["etag"]})
    assert cached.status_code == 304
    download = await client.get(f"/api/tracks/{track['id']}/stream", params={"download": True})
    assert download.headers["content-disposition"].startswith("attachment")


async def test_stream_never_serves_outside_the_library(api, tmp_path):
    client, root, _ = api
    track = (await client.get("/api/tracks", params={"limit": 1})).json()["items"][0]
    # the file is replaced by a link pointing outside every library root
    secret = tmp_path / "secret.txt"
    secret.write_text("not music")
    os.unlink(track["path"])
    os.symlink(secret, track["path"])
    response = await client.get(f"/api/tracks/{track['id']}/stream")
    assert response.status_code == 404 and "not music" not in response.text
    assert str(secret) not in response.text


async def test_errors_are_json_without_internals(api):
    client, _, _ = api
    missing = await client.get("/api/tracks/999999")
    assert missing.status_code == 404 and missing.json() == {"error": {"status": 404, "message": "no track 999999"}}
    bad = await client.get("/api/tracks", params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["where"] == "query.limit"
    bad_sort = await client.get("/api/tracks", params={"sort": "colour"})
    assert bad_sort.status_code == 400 and "cannot sort by 'colour'" in bad_sort.json()["error"]["message"]
    malformed = await client.post("/api/scans", content=b"{not json", headers={"content-type": "application/json"})
    assert malformed.status_code == 422
    for response in (missing, bad, bad_sort, malformed):
        assert "Traceback" not in response.text and "/work/" not in response.text


async def test_scans_start_refuse_outside_roots_and_report(api, tmp_path):
    client, root, manifest = api
    outside = await client.post("/api/scans", json={"path": str(tmp_path)})
    assert outside.status_code == 403
    escape = await client.post("/api/scans", json={"path": str(root / ".." / "..")})
    assert escape.status_code == 403
    started = await client.post("/api/scans", json={"path": str(root / manifest["albums"][0]["path"])})
    assert started.status_code == 202
    status_url = started.json()["status_url"]
    for _ in range(200):
        status = (await client.get(status_url)).json()
        if status["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert status["status"] == "completed" and status["result"]["new"] == 0
    scans = (await client.get("/api/scans")).json()
    assert scans[0]["id"] == status["result"]["scan_id"] and scans[0]["status"] == "completed"
    assert (await client.get(f"/api/scans/{scans[0]['id']}")).json()["counts"]["unchanged"] > 0


async def test_health_and_metrics(api):
    client, _, _ = api
    health = await client.get("/api/health")
    assert health.status_code == 200 and health.json()["checks"] == {"database": "ok"}
    metrics = (await client.get("/metrics")).text
    assert "# TYPE soniquebay_queue_depth gauge" in metrics and 'soniquebay_queue_depth{queue="embedded"} 0' in metrics
    schema = (await client.get("/openapi.json")).json()
    assert {"/api/tracks", "/api/albums/{album_id}", "/api/tracks/{track_id}/stream", "/api/scans"} <= set(
        schema["paths"])


def test_serve_command_answers_http(tmp_path, db_url):
    """`soniquebay serve` as a user starts it: a real uvicorn on a free local port."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SONIQUEBAY_DATA_DIR": str(tmp_path / "data"), "SONIQUEBAY_DATABASE_URL": db_url,
           "SONIQUEBAY_CONFIG": str(tmp_path / "none.toml"), "SONIQUEBAY_ADMIN_USER": "root",
           "SONIQUEBAY_ADMIN_PASSWORD": "first-admin-pw"}
    (tmp_path / "none.toml").write_text("")
    env.pop("SONIQUEBAY_REDIS_URL", None)
    server = subprocess.Popen([str(Path(sys.executable).parent / "soniquebay"), "serve", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert response.status_code == 200 and response.json()["status"] == "ok"
        login = httpx.post(f"http://127.0.0.1:{port}/api/auth/login",
                           json={"name": "root", "password": "first-admin-pw"})
        assert login.status_code == 200 and login.json()["role"] == "admin"  # created from the environment
    finally:
        server.terminate()
        server.wait(timeout=30)


async def test_auth_tokens_roles_sessions_and_throttle(app_and_tokens):
    app, tokens, root, _ = app_and_tokens
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as anonymous:
        denied = await anonymous.get("/api/tracks")
        assert denied.status_code == 401 and "authentication required" in denied.json()["error"]["message"]
        assert (await anonymous.get("/api/tracks", headers={"Authorization": "Bearer sb_nope"})).status_code == 401
        assert (await anonymous.get("/api/health")).status_code == 200  # monitors need no token

        wrong = await anonymous.post("/api/auth/login", json={"name": "ada", "password": "wrong"})
        assert wrong.status_code == 401
        ok = await anonymous.post("/api/auth/login", json={"name": "ada", "password": "correct horse"})
        assert ok.status_code == 200 and "sb_session" in ok.cookies
        me = await anonymous.get("/api/auth/me")  # the cookie jar now holds the session
        assert me.json()["name"] == "ada" and me.json()["role"] == "admin"
        assert (await anonymous.get("/api/tracks", params={"limit": 1})).status_code == 200
        await anonymous.post("/api/auth/logout")
        anonymous.cookies.clear()
        assert (await anonymous.get("/api/auth/me")).status_code == 401

        for _ in range(5):
            await anonymous.post("/api/auth/login", json={"name": "rex", "password": "guess"})
        throttled = await anonymous.post("/api/auth/login", json={"name": "rex", "password": "battery staple"})
        assert throttled.status_code == 429

    async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                 headers={"Authorization": f"Bearer {tokens['reader']}"}) as reader:
        assert (await reader.get("/api/tracks", params={"limit": 1})).status_code == 200
        forbidden = await reader.post("/api/scans", json={})
        assert forbidden.status_code == 403 and "admin" in forbidden.json()["error"]["message"]
        created = (await reader.post("/api/tokens", json={"name": "my script"})).json()
        assert created["token"].startswith("sb_")
        mine = (await reader.get("/api/tokens")).json()
        assert {t["name"] for t in mine} == {"tests", "my script"}  # a reader sees only their own
        new_id = next(t["id"] for t in mine if t["name"] == "my script")
        assert (await reader.delete(f"/api/tokens/{new_id}")).status_code == 200
        gone = await reader.get("/api/tracks", headers={"Authorization": f"Bearer {created['token']}"})
        assert gone.status_code == 401


def test_first_admin_and_tokens_from_the_command_line(tmp_path, db_url):
    env = {**os.environ, "SONIQUEBAY_DATA_DIR": str(tmp_path / "data"), "SONIQUEBAY_DATABASE_URL": db_url,
           "SONIQUEBAY_CONFIG": str(tmp_path / "none.toml")}
    (tmp_path / "none.toml").write_text("")
    sb = str(Path(sys.executable).parent / "soniquebay")
    added = subprocess.run([sb, "user", "add", "ada", "--role", "admin", "--password-stdin"], input="s3cret-pass\n",
                           env=env, capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    short = subprocess.run([sb, "user", "add", "bob", "--password-stdin"], input="short\n", env=env,
                           capture_output=True, text=True)
    assert short.returncode == 1 and "at least 8 characters" in short.stderr
    token = subprocess.run([sb, "token", "create", "backup-script", "--user", "ada"], env=env, capture_output=True,
                           text=True).stdout.strip()
    assert token.startswith("sb_")
    listed = subprocess.run([sb, "token", "list", "--format", "json"], env=env, capture_output=True, text=True)
    assert [t["name"] for t in json.loads(listed.stdout)] == ["backup-script"]
    assert token not in listed.stdout  # only hashes are kept


async def test_genres_tags_features_and_more_filters(api):
    client, root, manifest = api
    genres = (await client.get("/api/genres")).json()
    counts = [g["tracks"] for g in genres["items"]]
    assert genres["total"] > 3 and counts == sorted(counts, reverse=True)
    top = genres["items"][0]
    with_genre = (await client.get("/api/tracks", params={"genre": top["name"], "limit": 1})).json()
    assert with_genre["total"] == top["tracks"]
    assert (await client.get("/api/tags")).json()["total"] == 0  # no tag plugin ran

    everything = (await client.get("/api/tracks", params={"limit": 1})).json()["total"]
    assert (await client.get("/api/tracks", params={"added_since": "2000-01-01"})).json()["total"] == everything
    assert (await client.get("/api/tracks", params={"added_since": "2999-01-01"})).json()["total"] == 0
    pending = (await client.get("/api/tracks", params={"missing_stage": "analysis.enrich_track"})).json()
    assert pending["total"] == everything  # nothing analysed yet
    assert (await client.get("/api/tracks", params={"missing_stage": "nostage"})).status_code == 400

    track = (await client.get("/api/tracks", params={"limit": 1})).json()["items"][0]
    written = await client.put(f"/api/tracks/{track['id']}/features",
                               json={"bpm": 128.0, "key": "A minor", "features": {"energy": 0.7}})
    assert written.status_code == 200
    again = await client.put(f"/api/tracks/{track['id']}/features", json={"features": {"danceability": 0.4}})
    assert again.json() == {"bpm": 128.0, "key": "A minor", "features": {"energy": 0.7, "danceability": 0.4},
                            "vectors": []}
    found = (await client.get("/api/tracks", params={"bpm_min": 127, "bpm_max": 129, "key": "A minor"})).json()
    assert [t["id"] for t in found["items"]] == [track["id"]]
    assert (await client.put(f"/api/tracks/{track['id']}/features", json={"bpm": -1})).status_code == 422


async def test_artists_a_to_z_jump(api):
    from soniquebay_core.text import fold

    client, _, _ = api
    everyone = (await client.get("/api/artists", params={"limit": 500})).json()["items"]
    letter = fold(everyone[0]["name"])[0]
    under = (await client.get("/api/artists", params={"initial": letter.upper(), "limit": 500})).json()
    assert {a["id"] for a in under["items"]} == {a["id"] for a in everyone if fold(a["name"]).startswith(letter)}
    rest = (await client.get("/api/artists", params={"initial": "#", "limit": 500})).json()
    assert {a["id"] for a in rest["items"]} == {a["id"] for a in everyone
                                                if not ("a" <= fold(a["name"])[:1] <= "z")}
    assert (await client.get("/api/artists", params={"initial": "ab"})).status_code == 422


async def test_first_scan_of_the_configured_roots(settings, library):
    """A fresh server scans ``library.roots`` from the config file: the web interface's first scan."""
    from soniquebay_core import auth
    from soniquebay_core.api.app import create_app

    root, manifest = library
    settings.library.roots = [root]
    app = create_app(settings, periodic_sweeps=False)
    async with app.router.lifespan_context(app):
        async with app.state.runtime.db.engine.begin() as conn:
            token = await auth.issue_token(conn, await auth.add_user(conn, "ada", "correct horse", "admin"), "t")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            started = await client.post("/api/scans", json={})
            assert started.status_code == 202
            for _ in range(600):
                status = (await client.get(started.json()["status_url"])).json()
                if status["status"] != "running":
                    break
                await asyncio.sleep(0.05)
            assert status["status"] == "completed"
            assert status["result"]["new"] >= sum(1 for t in manifest["tracks"] if not t["corrupt"])
