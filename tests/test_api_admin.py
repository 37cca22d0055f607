"""Plugins, settings, jobs and operations over the API."""
from __future__ import annotations

import httpx

from soniquebay_core import auth
from soniquebay_core.api.app import create_app
from soniquebay_core.plugins import load_plugins


async def signed_in(runtime) -> tuple[str, str]:
    """Tokens of a new admin and a new reader."""
    async with runtime.db.engine.begin() as conn:
        admin = await auth.issue_token(conn, await auth.add_user(conn, "ada", "correct horse", "admin"), "t")
        reader = await auth.issue_token(conn, await auth.add_user(conn, "rex", "battery staple", "reader"), "t")
    return admin, reader


async def client_for(app, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                             headers={"Authorization": f"Bearer {token}"})


async def test_plugins_switch_persists_and_plugin_routes(settings, tmp_path, fake_plugins):
    from soniquebay_core.demo import make_demo_library

    make_demo_library(tmp_path / "demo")
    settings = settings.model_copy(update={"plugins": {"routes": {"greeting": "bonjour"}}})

    def build():
        return create_app(settings, host=load_plugins(settings, modules={"routes": "sb_routes"}),
                          periodic_sweeps=False)

    app = build()
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        await runtime.scan([tmp_path / "demo"])
        await runtime.wait_idle()
        admin, reader = await signed_in(runtime)
        async with await client_for(app, admin) as client, await client_for(app, reader) as reading:
            plugins = {p["id"]: p for p in (await client.get("/api/plugins")).json()}
            assert plugins["routes"]["enabled"] and plugins["tags"]["essential"]
            assert (await client.get("/api/plugins/routes/hello")).json() == {"hello": "bonjour"}
            assert (await client.put("/api/plugins/tags", json={"enabled": False})).status_code == 409
            assert (await reading.put("/api/plugins/routes", json={"enabled": False})).status_code == 403
            assert (await client.put("/api/plugins/nope", json={"enabled": False})).status_code == 404

            off = await client.put("/api/plugins/routes", json={"enabled": False})
            assert off.status_code == 200 and off.json()["enabled"] is False
            assert (await client.get("/api/plugins/routes/hello")).status_code == 404
            jobs = (await client.get("/api/jobs")).json()
            assert jobs["mode"] == "embedded" and all(s["plugin"] != "routes" for s in jobs["stages"])

    app = build()  # a restart: the switch was stored
    async with app.router.lifespan_context(app):
        async with await client_for(app, admin) as client:
            plugins = {p["id"]: p for p in (await client.get("/api/plugins")).json()}
            assert plugins["routes"]["enabled"] is False and plugins["routes"]["reason"] == "disabled in config"
            assert (await client.put("/api/plugins/routes", json={"enabled": True})).json()["enabled"] is True
            assert (await client.get("/api/plugins/routes/hello")).status_code == 200


async def test_failed_jobs_retry_and_analyse_now(settings, tmp_path, fake_plugins):
    from soniquebay_core.demo import make_demo_library

    make_demo_library(tmp_path / "demo")
    (tmp_path / "demo" / "Untagged" / "07 - Found On A Tape.wav").rename(
        tmp_path / "demo" / "Untagged" / "07 - Broken Tape.wav")
    app = create_app(settings, host=load_plugins(settings, modules={"routes": "sb_routes"}), periodic_sweeps=False)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        await runtime.scan([tmp_path / "demo"])
        await runtime.wait_idle()
        admin, _ = await signed_in(runtime)
        async with await client_for(app, admin) as client:
            failed = (await client.get("/api/jobs/failed")).json()
            assert [f["path"].rsplit("/", 1)[1] for f in failed["stages"]] == ["07 - Broken Tape.wav"]
            assert "cannot enrich this one" in failed["stages"][0]["error"]
            retried = await client.post("/api/jobs/retry", json={"plugin": "routes"})
            assert retried.status_code == 202 and retried.json() == {"tracks": 1, "jobs": 1}
            await runtime.wait_idle()
            assert len((await client.get("/api/jobs/failed")).json()["stages"]) == 1  # still broken

            album = (await client.get("/api/albums", params={"q": "two floors"})).json()["items"][0]
            assert (await client.post("/api/analyse", json={"album_id": album["id"]})).json()["tracks"] == 6
            bad = await client.post("/api/analyse", json={"track_ids": [1], "stages": ["paint"]})
            assert bad.status_code == 422 and "unknown stages: paint" in bad.json()["error"]["message"]
            settings_shown = (await client.get("/api/settings")).json()
            assert settings_shown["database_url"].startswith(("sqlite", "postgresql"))


async def test_request_ids_and_latency_metrics(api):
    client, _, _ = api
    response = await client.get("/api/tracks", params={"limit": 1}, headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = await client.get("/api/tracks", params={"limit": 1}, headers={"X-Request-ID": "bad id\n"})
    assert generated.headers["x-request-id"] != "bad id\n" and len(generated.headers["x-request-id"]) == 16
    metrics = (await client.get("/metrics")).text
    assert 'soniquebay_http_request_seconds_count{method="GET",route="/api/tracks",status="200"} 2' in metrics
    assert 'route="/api/tracks",status="200",le="+Inf"} 2' in metrics


async def test_settings_change_at_run_time_are_stored_and_validated(settings, tmp_path, fake_plugins):
    settings = settings.model_copy(update={"plugins": {"routes": {"greeting": "bonjour", "api_key": "s3cret"}}})
    modules = {"routes": "sb_routes", "heavy": "sb_heavy"}

    def build():
        return create_app(settings, host=load_plugins(settings, modules=modules), periodic_sweeps=False)

    music = tmp_path / "music"
    music.mkdir()
    app = build()
    async with app.router.lifespan_context(app):
        admin, reader = await signed_in(app.state.runtime)
        async with await client_for(app, admin) as client, await client_for(app, reader) as reading:
            shown = (await client.get("/api/settings")).json()
            assert shown["profile"] == "desktop" and shown["plugins"]["routes"]["api_key"] == "***"
            assert (await reading.patch("/api/settings", json={"profile": "pi"})).status_code == 403

            changed = await client.patch("/api/settings", json={
                "profile": "pi", "library": {"roots": [str(music)]},
                "plugins": {"routes": {"greeting": "hola", "api_key": "***"}}})
            assert changed.status_code == 200, changed.text
            assert changed.json()["profile"] == "pi" and changed.json()["library"]["roots"] == [str(music.resolve())]
            runtime = app.state.runtime
            assert runtime.settings.plugins["routes"] == {"greeting": "hola", "api_key": "s3cret"}  # secret kept
            plugins = {p["id"]: p for p in (await client.get("/api/plugins")).json()}
            assert plugins["heavy"]["enabled"] is False  # the pi profile runs no heavy plugin by default

            for bad, message in (({"database_url": "sqlite:///x.db"}, "cannot change while SoniqueBay runs"),
                                 ({"profile": "toaster"}, "invalid setting profile"),
                                 ({"scanner": {"batch_size": 0}}, "invalid setting scanner.batch_size"),
                                 ({"scanner": {"colour": "blue"}}, "invalid setting scanner.colour"),
                                 ({"library": {"roots": [str(tmp_path / "nowhere")]}}, "is not a folder"),
                                 ({"library": {"roots": ["relative/music"]}}, "is not an absolute path")):
                refused = await client.patch("/api/settings", json=bad)
                assert refused.status_code == 400 and message in refused.json()["error"]["message"], refused.text
            assert (await client.patch("/api/settings", json=["profile"])).status_code == 422
            assert runtime.settings.profile == "pi" and runtime.limits.profile == "pi"  # nothing refused was kept

    app = build()  # a restart: the overrides were stored
    async with app.router.lifespan_context(app):
        async with await client_for(app, admin) as client:
            assert (await client.get("/api/settings")).json()["profile"] == "pi"
            assert (await client.get("/api/plugins/routes/hello")).json() == {"hello": "hola"}  # routes: at start
            back = await client.patch("/api/settings", json={"profile": None, "plugins": {"routes": {"greeting": None}}})
            assert back.json()["profile"] == "desktop"  # the config file's value again
            assert app.state.runtime.settings.plugins["routes"] == {"greeting": "bonjour", "api_key": "s3cret"}
            plugins = {p["id"]: p for p in (await client.get("/api/plugins")).json()}
            assert plugins["heavy"]["enabled"] is True
