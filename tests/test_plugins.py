"""The plugin host: discovery, manifests, enabling rules, isolation."""
from __future__ import annotations

import textwrap

import pytest
from helpers import install_entry_points, other_plugins_off

from soniquebay_core import TrackSnapshot
from soniquebay_core.config import Settings
from soniquebay_core.plugins import load_plugins
from soniquebay_core.scanner.walk import ignored_by_plugins


def _host(fake_plugins, names, strict=False, **settings):
    return load_plugins(Settings(**settings), strict=strict, entry_points_group=False,
                        modules={n: fake_plugins[n] for n in names})


TRACK = TrackSnapshot(id=1, path="/music/a.flac", format="flac", title="A Song")


def test_builtin_plugins_are_discovered_through_entry_points():
    host = load_plugins(Settings())
    assert host.plugins["tags"].enabled and host.plugins["tags"].hooks == ["read_tags"]
    assert host.plugins["ignore"].enabled and host.plugins["ignore"].hooks == ["ignore_entries"]
    assert host.plugins["tags"].distribution == "soniquebay-core"


def test_installed_entry_point_plugin_is_discovered(tmp_path, monkeypatch):
    """A distribution on sys.path declaring a `soniquebay` entry point is found and loaded."""
    (tmp_path / "sb_installed_demo.py").write_text(textwrap.dedent("""
        from soniquebay_core import PluginManifest, TrackPatch, hookimpl
        MANIFEST = PluginManifest(id="installed_demo", version="0.3.0")
        @hookimpl
        def enrich_track(track):
            return TrackPatch(key="C major")
    """))
    monkeypatch.syspath_prepend(str(install_entry_points(tmp_path, "sb-installed-demo",
                                                         {"installed_demo": "sb_installed_demo"})))

    host = load_plugins(Settings(plugins=other_plugins_off()))
    plugin = host.plugins["installed_demo"]
    assert plugin.enabled and plugin.distribution == "sb-installed-demo"
    assert plugin.hooks == ["enrich_track"]
    assert host.stage_plugins("enrich_track") == ["installed_demo"]


def test_entry_point_that_fails_to_import_is_reported_and_others_load(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(install_entry_points(tmp_path, "sb-broken",
                                                         {"broken": "sb_module_that_is_not_there"})))

    host = load_plugins(Settings())
    assert host.plugins["broken"].status == "failed"
    assert "import failed" in host.plugins["broken"].reason
    assert host.plugins["tags"].enabled


def test_bad_plugins_fail_to_load_with_reasons(fake_plugins):
    host = _host(fake_plugins, ["broken", "misspelt", "no_manifest", "recorder"])
    assert host.plugins["broken"].status == "failed"
    assert "ModuleNotFoundError" in host.plugins["broken"].reason
    assert host.plugins["misspelt"].status == "failed"
    assert "enrich_trak" in host.plugins["misspelt"].reason
    assert host.plugins["no_manifest"].status == "failed"
    assert "MANIFEST" in host.plugins["no_manifest"].reason
    assert host.plugins["recorder"].enabled


def test_manifest_id_must_match_the_plugin_name(fake_plugins):
    host = load_plugins(Settings(), entry_points_group=False, modules={"other_name": "sb_heavy"})
    assert host.plugins["other_name"].status == "failed"
    assert "differs" in host.plugins["other_name"].reason


@pytest.mark.parametrize("profile, enabled", [("pi", False), ("desktop", True), ("server", True)])
def test_profile_decides_heavy_plugins(fake_plugins, profile, enabled):
    host = _host(fake_plugins, ["heavy", "recorder"], profile=profile)
    assert host.plugins["heavy"].enabled is enabled
    assert host.plugins["recorder"].enabled  # light plugins run everywhere
    assert ("heavy" in host.stage_plugins("enrich_track")) is enabled


def test_user_config_overrides_profile(fake_plugins):
    on_pi = _host(fake_plugins, ["heavy"], profile="pi", plugins={"heavy": {"enabled": True}})
    assert on_pi.plugins["heavy"].enabled and on_pi.plugins["heavy"].reason == "enabled in config"
    off = _host(fake_plugins, ["recorder"], plugins={"recorder": {"enabled": False}})
    assert not off.plugins["recorder"].enabled
    assert off.stage_plugins("enrich_track") == []


def test_missing_binary_disables_even_when_enabled_in_config(fake_plugins):
    host = _host(fake_plugins, ["needs_binary"], plugins={"needs_binary": {"enabled": True}})
    assert host.plugins["needs_binary"].status == "disabled"
    assert "no-such-binary-sb" in host.plugins["needs_binary"].reason


def test_essential_plugins_cannot_be_disabled():
    host = load_plugins(Settings(plugins={"tags": {"enabled": False}, "ignore": {"enabled": False}}))
    assert host.plugins["tags"].enabled and host.plugins["ignore"].enabled


def test_a_raising_plugin_is_recorded_and_the_others_still_run(fake_plugins):
    host = _host(fake_plugins, ["raiser", "recorder"])
    errors = []
    results = host.dispatch.call_each("on_file_discovered", track=TRACK, is_new=True,
                                      on_error=lambda plugin, hook, exc: errors.append((plugin, hook, str(exc))))
    import sb_recorder

    assert sb_recorder.discovered == [(1, True)]
    assert errors == [("raiser", "on_file_discovered", "raiser cannot handle A Song")]
    assert results == []  # on_file_discovered returns nothing


def test_strict_mode_reraises(fake_plugins):
    host = _host(fake_plugins, ["raiser", "recorder"], strict=True)
    with pytest.raises(RuntimeError, match="raiser cannot handle"):
        host.dispatch.call_each("on_file_discovered", track=TRACK, is_new=True, on_error=lambda *a: None)


async def test_call_one_runs_one_plugin_with_its_own_config(fake_plugins):
    host = _host(fake_plugins, ["recorder", "heavy"], plugins={"recorder": {"bpm": 98.5}})
    patch = await host.dispatch.call_one("recorder", "enrich_track", track=TRACK)
    assert patch.bpm == 98.5
    assert (await host.dispatch.call_one("heavy", "enrich_track", track=TRACK)).key == "A minor"
    with pytest.raises(RuntimeError):
        await _host(fake_plugins, ["raiser"]).dispatch.call_one("raiser", "enrich_track", track=TRACK)


def test_call_first_follows_the_given_order_and_skips_failures(fake_plugins):
    host = _host(fake_plugins, ["raiser", "recorder", "heavy"])
    errors = []
    first = host.dispatch.call_first("enrich_track", order=["raiser", "heavy", "recorder"], track=TRACK,
                                     on_error=lambda p, h, e: errors.append(p))
    assert first[0] == "heavy" and errors == ["raiser"]


def test_third_party_ignore_rules_answer_before_the_builtin(fake_plugins):
    host = load_plugins(Settings(), modules={"ignore_flac": "sb_ignore_flac"})
    files = ["a.flac", ".hidden.mp3", "a.mp3", ".notes.keep", "x.tmp"]
    skipped = ignored_by_plugins(host.dispatch, "/m", files, [".git", "Disc 1"])
    # the first opinion on a name decides: ignore_flac keeps ".notes.keep", which the built-in would skip
    assert skipped == {"a.flac", ".hidden.mp3", "x.tmp", ".git"}


def test_hookspecs_document_their_contract():
    """Every hook says when and where it is called, and what returning None means."""
    from soniquebay_core import hookspecs

    specs = [name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "soniquebay_spec")]
    for name in specs:
        doc = getattr(hookspecs, name).__doc__ or ""
        assert "Called in:" in doc, f"{name} does not say where it is called"
        assert "None" in doc or "return" in doc.lower(), f"{name} does not state its return contract"
    assert set(specs) >= {"on_file_discovered", "enrich_track", "vectorize", "fetch_cover", "read_tags",
                          "ignore_entries", "register_commands"}


async def test_async_cover_source_and_vectorizer(fake_plugins):
    from soniquebay_core import AlbumSnapshot

    host = _host(fake_plugins, ["async_sources"])
    album = AlbumSnapshot(id=3, title="X", mb_albumid="ec30b3c2-0b6a-4ad2-bf0d-d5832625748a")
    cover = await host.dispatch.call_one("async_sources", "fetch_cover", album=album)
    assert cover.mime == "image/png" and cover.source == "test"
    assert await host.dispatch.call_one("async_sources", "fetch_cover", album=AlbumSnapshot(id=4, title="Y")) is None
    vector = host.dispatch.call_first("vectorize", track=TRACK)
    assert vector == ("async_sources", vector[1]) and vector[1].vector == [6.0, 1.0]
    # an async implementation cannot be awaited outside a job: reported, never taken for an answer
    errors = []
    assert host.dispatch.call_first("fetch_cover", album=album, on_error=lambda p, h, e: errors.append(str(e))) \
        is None
    assert "async" in errors[0]
