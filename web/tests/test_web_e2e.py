"""The web interface in a real browser (Debian's chromium, headless) against a real ``soniquebay serve``.

One server and one library for the module: an admin logs in, scans the generated library from the
scans page while watching live progress, browses, plays, searches, builds a queue and switches a
plugin; a reader sees no admin pages. Every page's console errors and uncaught exceptions fail the run.
"""
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from helpers import install_entry_points
from web_harness import ARTIFACTS, Server, chromium_missing, launch, log_in

ADMIN = ("ada", "correct horse battery")
READER = ("rex", "battery staple horse")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
README_SHOTS = {"albums", "playing", "search", "scans", "phone-dark", "settings", "plugins"}

pytestmark = pytest.mark.skipif(chromium_missing() is not None, reason=str(chromium_missing()))


@pytest.fixture(scope="module")
def server(generated_master, tmp_path_factory):
    pytest.importorskip("playwright.sync_api")
    home = tmp_path_factory.mktemp("web")
    music = home / "music"
    shutil.copytree(generated_master[0], music, symlinks=True)
    site = install_entry_points(home / "site", "sb-web-demo", {"webdemo": "sb_web_demo"})
    served = Server(home / "server", roots=[music.resolve()], profile="pi",
                    plugins={"webdemo": {"api_token": "s3cret-value", "region": "eu"}})
    served.env["PYTHONPATH"] = os.pathsep.join([str(site), str(Path(__file__).parent),
                                                served.env.get("PYTHONPATH", "")])
    served.add_user(*ADMIN, role="admin")
    served.add_user(*READER, role="reader")
    served.start()
    yield served, generated_master[1]
    served.stop()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


class Console:
    """Console errors and uncaught exceptions of every page of a context."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page) -> None:
        page.on("console", lambda m: self.errors.append(f"{page.url}: console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: uncaught {e}"))


@pytest.fixture(scope="module")
def admin(server, browser):
    served, _ = server
    console = Console()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.on("page", console.watch)
    page = context.new_page()
    log_in(page, served.url, *ADMIN)
    yield page, console
    context.close()


@pytest.fixture(autouse=True)
def no_console_errors(request):
    yield
    for name in ("admin",):
        if name in request.fixturenames:
            _, console = request.getfixturevalue(name)
            found, console.errors[:] = list(console.errors), []
            assert not found, "\n".join(found)


def shot(page, name: str) -> None:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("SB_UPDATE_SCREENSHOTS") == "1" and name in README_SHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / f"{name}.png")


def go(page, url: str, ready: str) -> None:
    page.goto(url)
    page.wait_for_selector(ready)


def settled(locator) -> None:
    """Wait until the element has stopped moving for 100 ms: an expansion sliding open on a loaded machine
    outlasted Playwright's own check (two animation frames), and a click meant for Save landed elsewhere."""
    locator.evaluate("""element => new Promise(done => {
        let last = "";
        const check = () => {
            const now = JSON.stringify(element.getBoundingClientRect());
            if (now === last) done(); else { last = now; setTimeout(check, 100); }
        };
        check();
    })""")


def api(page, path: str, method: str = "GET", body: dict | None = None):
    """The API as the page's user (the context's session cookie)."""
    answer = page.request.fetch(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + path,
                                method=method, data=json.dumps(body) if body is not None else None,
                                headers={"Content-Type": "application/json"} if body is not None else None)
    assert answer.ok, answer.text()
    return answer.json()


def test_login_lands_on_an_empty_library(server, admin, browser):
    served, _ = server
    page, _ = admin
    page.wait_for_selector("text=No library yet — scan a folder")
    shot(page, "empty")
    login = browser.new_page()
    login.goto(f"{served.url}/albums")
    login.wait_for_url(re.compile(r"/login\?next=(%2F|/)albums$"))
    login.wait_for_selector("#sb-login")
    login.screenshot(path=str(ARTIFACTS / "login.png"))
    login.close()


def test_scan_from_the_page_with_live_progress(server, admin):
    served, manifest = server
    page, _ = admin
    go(page, f"{served.url}/scans", "text=Library folders")
    page.get_by_label("Folder (optional: one folder inside a library folder)").fill("/etc")
    page.click(".sb-start-scan")  # refused by the API: a clear toast, nothing scanned
    page.wait_for_selector(".q-notification:has-text('only library roots and folders inside them can be scanned')")
    page.get_by_label("Folder (optional: one folder inside a library folder)").fill("")
    page.click(".sb-start-scan")
    status = page.locator("[data-stage=scan] .sb-stage-status")
    status.wait_for()
    page.wait_for_function("() => /files/.test(document.querySelector('[data-stage=scan] .sb-stage-status')"
                           "?.textContent || '')")
    status_seen = status.text_content()
    page.wait_for_selector("[data-stage=scan] .sb-stage-status:has-text('done')", timeout=60_000)
    final = status.text_content()
    audio = [t for t in manifest["tracks"] if not t.get("corrupt")]
    assert int(final.split(" files")[0]) >= len(audio) and "files/s" in final and "errors" in status_seen
    # the plugin's stage shows up as its jobs report
    page.wait_for_selector("[data-stage='webdemo.enrich_track'] .sb-stage-status:has-text('done')",
                           timeout=60_000)
    shot(page, "scans")


def test_albums_grid_and_album_page(server, admin):
    served, _ = server
    page, _ = admin
    go(page, f"{served.url}/albums", ".sb-album-card")
    cards = page.locator(".sb-album-card")
    assert 1 < cards.count() <= 48  # one page at a time
    assert page.locator(".sb-album-card img").first.get_attribute("loading") == "lazy"
    page.wait_for_function("() => [...document.querySelectorAll('.sb-album-card img')].slice(0, 10)"
                           ".every((img) => img.complete && img.naturalWidth > 0)")
    shot(page, "albums")
    title = cards.nth(1).locator(".sb-card-title").text_content()
    cards.nth(1).click()
    page.wait_for_selector(".sb-album-title")
    assert page.locator(".sb-album-title").text_content() == title
    assert page.locator(".sb-track").count() >= 1
    page.wait_for_selector(".sb-track .q-badge:has-text('BPM')")  # the plugin's tempo is shown
    page.wait_for_function("() => { const img = document.querySelector('.sb-album-cover img');"
                           " return img && img.complete && img.naturalWidth > 0; }")
    shot(page, "album")


def test_play_a_track_and_keyboard(server, admin):
    served, _ = server
    page, _ = admin
    first = page.locator(".sb-track .sb-track-title").first.text_content()
    page.click(".sb-album-play")
    page.wait_for_function("() => { const a = document.querySelector('.sb-player audio');"
                           " return a && a.currentTime > 0.3; }", timeout=20_000)
    before = page.evaluate("document.querySelector('.sb-player audio').currentTime")
    page.wait_for_function(f"() => document.querySelector('.sb-player audio').currentTime > {before}")
    assert page.locator(".sb-player-title").text_content() == first
    shot(page, "playing")
    assert "/api/tracks/" in page.evaluate("document.querySelector('.sb-player audio').src")
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('.sb-player audio').paused")
    page.evaluate("document.querySelector('.sb-player audio').currentTime = 0.5")  # seeking: a Range request
    page.keyboard.press("Space")
    page.wait_for_function("() => !document.querySelector('.sb-player audio').paused")
    page.keyboard.press("Space")


def test_queue_reorder_remove_survives_reload_and_saves(server, admin):
    served, _ = server
    page, _ = admin
    go(page, f"{served.url}/albums", ".sb-album-card")
    page.locator(".sb-album-card").nth(1).click()
    page.wait_for_selector(".sb-album-queue")
    page.click(".sb-album-queue")
    queue = api(page, "/api/queue")
    assert len(queue["tracks"]) >= 3
    page.click(".sb-queue-toggle")
    page.wait_for_selector(".sb-queue-item")
    items = page.locator(".sb-queue-item .sb-queue-title")
    second = items.nth(1).text_content()
    page.locator(".sb-queue-item").nth(1).locator(".sb-queue-up").click()
    page.wait_for_function(f"() => document.querySelector('.sb-queue-item .sb-queue-title').textContent === "
                           f"{json.dumps(second)}")
    count = page.locator(".sb-queue-item").count()
    page.locator(".sb-queue-item").last.locator(".sb-queue-remove").click()
    page.wait_for_function(f"() => document.querySelectorAll('.sb-queue-item').length === {count - 1}")
    shot(page, "queue")
    page.reload()
    page.wait_for_selector(".sb-player-title")
    after = api(page, "/api/queue")
    assert len(after["tracks"]) == count - 1 and after["tracks"][0]["title"] == second
    page.wait_for_function(f"() => document.querySelector('.sb-player-title').textContent === "
                           f"{json.dumps(after['tracks'][after['current']]['title'])}")
    page.click(".sb-queue-toggle")
    page.click(".sb-queue-save")
    page.fill(".sb-save-name input", "Road trip")
    page.click(".sb-save-confirm")
    page.wait_for_selector("text=Saved Road trip")
    go(page, f"{served.url}/playlists", ".sb-playlist-card")
    page.locator(".sb-playlist-card", has_text="Road trip").click()
    page.wait_for_selector(".sb-playlist-play")
    assert page.locator(".sb-track").count() == count - 1
    page.goto(f"{served.url}/albums")
    page.wait_for_selector(".sb-queue-toggle")
    page.click(".sb-queue-toggle")
    page.click(".sb-queue-clear")
    page.wait_for_selector("text=The queue is empty")
    assert api(page, "/api/queue")["tracks"] == []


def test_playlist_create_rename_add_and_remove(server, admin):
    served, _ = server
    page, _ = admin
    go(page, f"{served.url}/playlists", ".sb-new-playlist")
    page.fill(".sb-new-playlist input", "Sunday")
    page.keyboard.press("Enter")
    page.wait_for_selector(".sb-playlist-name")
    playlist_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    page.fill(".sb-playlist-name input", "Sunday morning")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Renamed")
    go(page, f"{served.url}/albums", ".sb-album-card")
    page.locator(".sb-album-card").first.click()
    page.locator(".sb-track .sb-track-more").first.click()
    page.get_by_text("Add to playlist…").click()
    page.locator(".sb-dialog .q-select").click()
    page.get_by_role("option", name="Sunday morning").click()
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_selector("text=Added to Sunday morning")
    stored = api(page, f"/api/playlists/{playlist_id}")
    assert stored["name"] == "Sunday morning" and len(stored["tracks"]) == 1
    go(page, f"{served.url}/playlists/{playlist_id}", ".sb-track")
    page.get_by_role("button", name="Remove from playlist").click()
    page.wait_for_selector("text=This playlist is empty")
    assert api(page, f"/api/playlists/{playlist_id}")["tracks"] == []


def test_search_typeahead_and_facets(server, admin):
    served, manifest = server
    page, _ = admin
    go(page, f"{served.url}/albums", ".sb-album-card")
    artist = next(t["artists"][0] for t in manifest["tracks"] if t["has_tags"] and not t["corrupt"])
    box = page.locator(".sb-search input")
    box.click()
    box.type(artist[:4], delay=40)
    page.wait_for_selector(f".sb-suggest-item:has-text({json.dumps(artist)})")
    shot(page, "typeahead")
    box.press("Enter")
    page.wait_for_selector(".sb-result-count")
    total = int(page.locator(".sb-result-count").text_content().split()[0])
    assert total > 0
    facet = page.locator(".sb-facet-key").first
    facet.wait_for()
    narrowed = int(facet.text_content().rsplit("·", 1)[1])
    facet.click()
    page.wait_for_selector(".sb-facet-active")
    page.wait_for_function(f"() => document.querySelector('.sb-result-count')?.textContent.startsWith('{narrowed} ')")
    shot(page, "search")


def test_plugins_switch_off_and_on(server, admin):
    served, _ = server
    page, _ = admin
    go(page, f"{served.url}/plugins", "[data-plugin=webdemo]")
    card = page.locator("[data-plugin=webdemo]")
    assert "api.example.org" in card.locator(".sb-plugin-hosts").text_content()
    card.locator(".sb-plugin-settings").click()
    secret = card.locator(".sb-secret input")
    assert secret.get_attribute("type") == "password" and secret.input_value() != "s3cret-value"
    page.wait_for_timeout(400)  # the expansion's animation
    shot(page, "plugins")
    card.locator(".sb-plugin-switch").click()
    page.wait_for_selector("text=webdemo disabled")
    assert not next(p for p in api(page, "/api/plugins") if p["id"] == "webdemo")["enabled"]
    card.locator(".sb-plugin-switch").click()
    page.wait_for_selector("text=webdemo enabled")
    assert next(p for p in api(page, "/api/plugins") if p["id"] == "webdemo")["enabled"]
    essential = page.locator("[data-plugin=tags] .sb-plugin-switch")
    assert "disabled" in (essential.get_attribute("class") or "") or essential.get_attribute("aria-disabled")


def test_track_table_pages_and_sorts(server, admin):
    served, _ = server
    page, _ = admin
    go(page, f"{served.url}/tracks", ".sb-track-table tbody tr")
    assert page.locator(".sb-track-table tbody tr").count() == 50
    page.click(".sb-track-table th:has-text('BPM')")
    page.wait_for_function("() => { const cells = [...document.querySelectorAll('.sb-track-table tbody tr')]"
                           ".map(r => Number(r.children[6]?.textContent)); return cells.length === 50 &&"
                           " cells.every((v, i) => i === 0 || cells[i - 1] <= v); }")
    shot(page, "tracks")


def test_artists_genres_and_settings_pages(server, admin):
    served, _ = server
    page, _ = admin
    go(page, f"{served.url}/artists", ".sb-artist-card")
    name = page.locator(".sb-artist-card .sb-card-title").first.text_content()
    page.locator(".sb-az-letter", has_text=re.compile(f"^{name[0].upper()}$")).click()
    page.wait_for_url(re.compile(f"initial={name[0].upper()}"))
    page.wait_for_selector(".sb-artist-card")
    titles = page.locator(".sb-artist-card .sb-card-title").all_text_contents()
    assert titles and all(t[0].upper() == name[0].upper() for t in titles)
    shot(page, "artists")
    page.locator(".sb-artist-card").first.click()
    page.wait_for_selector("text=Albums >> nth=-1")
    page.wait_for_selector(".sb-album-card")
    shot(page, "artist")
    go(page, f"{served.url}/genres", ".sb-genre")
    genre = page.locator(".sb-genre").first.text_content().rsplit(" · ", 1)
    page.locator(".sb-genre").first.click()
    page.wait_for_selector(".sb-track-table tbody tr")
    bottom = page.locator(".sb-track-table .q-table__bottom")
    page.wait_for_function("() => / of [1-9]/.test(document.querySelector('.sb-track-table .q-table__bottom')"
                           "?.textContent || '')")
    assert page.get_by_label("Genre").input_value() == genre[0]
    # the filter matches genres containing the name ("Rock" also finds "Punk Rock")
    assert int(re.search(r" of (\d+)", bottom.text_content()).group(1)) >= int(genre[1]), genre
    go(page, f"{served.url}/settings", ".sb-roots")
    assert page.locator(f".sb-roots [data-root='{(served.home.parent / 'music').resolve()}']").count() == 1
    shot(page, "settings")


def test_unknown_api_paths_answer_json_and_plugin_routes_are_reachable(server, admin):
    served, _ = server
    page, _ = admin
    answer = page.request.get(f"{served.url}/api/no/such/route")
    assert answer.status == 404 and answer.json() == {"error": {"status": 404, "message": "Not Found"}}
    assert page.request.get(f"{served.url}/api").status == 404
    # mounted at start-up, after the interface: not hidden behind it
    assert api(page, "/api/plugins/webdemo/region") == {"region": "eu"}


def toast(page, text: str) -> None:
    from playwright.sync_api import TimeoutError as Timeout

    try:
        page.wait_for_selector(f".q-notification:has-text({json.dumps(text)})")
    except Timeout:  # say what the page showed instead
        shown = page.locator(".q-notification, .sb-refused").all_inner_texts()
        raise AssertionError(f"no notification {text!r}; the page shows {shown}") from None


def test_settings_profile_folders_and_refusals(server, admin):
    served, _ = server
    page, _ = admin
    go(page, f"{served.url}/settings", ".sb-profile")
    page.locator(".sb-profile-choice").get_by_text("desktop —").click()
    toast(page, "Profile: desktop")
    assert api(page, "/api/settings")["profile"] == "desktop"
    assert next(p for p in api(page, "/api/plugins") if p["id"] == "webdemo")["enabled"]
    page.locator(".sb-profile .sb-reset").click()  # back to the config file's pi
    toast(page, "Profile from the config file")
    assert api(page, "/api/settings")["profile"] == "pi"
    assert page.locator(".sb-profile-choice [aria-checked=true]").text_content().startswith("pi —")

    extra = served.home / "more-music"
    extra.mkdir(exist_ok=True)
    extra = extra.resolve()
    page.fill(".sb-root-new input", str(extra))
    page.click(".sb-root-add")
    page.wait_for_selector(f"[data-root='{extra}']")
    assert str(extra) in api(page, "/api/settings")["library"]["roots"]
    page.reload()
    page.wait_for_selector(f"[data-root='{extra}']")  # stored, not just shown
    page.locator(f"[data-root='{extra}'] .sb-root-remove").click()
    page.wait_for_selector(f"[data-root='{extra}']", state="detached")
    assert str(extra) not in api(page, "/api/settings")["library"]["roots"]

    scanning = page.locator(".sb-scanning")
    scanning.locator("[data-setting=batch_size] input").fill("0")
    scanning.locator(".sb-save").click()  # refused by the API, which names the setting
    toast(page, "invalid setting scanner.batch_size")
    assert api(page, "/api/settings")["scanner"]["batch_size"] == 500
    scanning.locator("[data-setting=batch_size] input").fill("250")
    scanning.locator("[data-setting=keep_missing] .q-toggle").click()
    scanning.locator(".sb-save").click()
    toast(page, "Saved keep_missing, batch_size")
    scanner = api(page, "/api/settings")["scanner"]
    assert scanner["batch_size"] == 250 and scanner["keep_missing"] is True
    page.locator(".sb-scanning [data-setting=batch_size] .sb-reset").click()
    toast(page, "batch_size from the config file")
    assert api(page, "/api/settings")["scanner"]["batch_size"] == 500
    page.locator(".sb-scanning [data-setting=keep_missing] .sb-reset").click()
    toast(page, "keep_missing from the config file")
    assert api(page, "/api/settings")["scanner"]["keep_missing"] is False
    jobs = page.locator(".sb-jobs")
    jobs.locator("[data-setting=covers_every_s] input").fill("600")
    jobs.locator(".sb-save").click()
    toast(page, "Saved covers_every_s")
    assert api(page, "/api/settings")["jobs"]["covers_every_s"] == 600
    page.locator(".sb-jobs [data-setting=covers_every_s] .sb-reset").click()
    toast(page, "covers_every_s from the config file")


def stored_overrides(served) -> dict:
    with sqlite3.connect(served.home / "data" / "library.db") as db:
        (value,) = db.execute("SELECT value FROM settings WHERE key = 'settings.overrides'").fetchone()
    return json.loads(value) if isinstance(value, str) else value


def test_plugin_settings_edit_persist_and_keep_the_secret(server, admin):
    served, _ = server
    page, _ = admin
    go(page, f"{served.url}/plugins", "[data-plugin=webdemo]")
    card = page.locator("[data-plugin=webdemo]")
    card.locator(".sb-plugin-settings").click()
    settled(card.locator(".sb-save"))
    secret = card.locator("[data-setting=api_token] input")
    assert secret.get_attribute("type") == "password" and secret.input_value() == ""
    card.locator("[data-setting=region] input").fill("us")
    card.locator(".sb-save").click()
    toast(page, "webdemo: saved region")
    page.reload()
    card.locator(".sb-plugin-settings").click()
    settled(card.locator(".sb-save"))
    assert card.locator("[data-setting=region] input").input_value() == "us"
    shown = api(page, "/api/settings")["plugins"]["webdemo"]
    assert shown["region"] == "us" and shown["api_token"] == "***"
    assert "api_token" not in stored_overrides(served)["plugins"]["webdemo"]  # the file's secret still holds

    card.locator(".sb-add-setting input").first.fill("max_results")
    card.locator(".sb-add-setting input").nth(1).fill("5")
    settled(card.locator(".sb-add-setting-button"))
    card.locator(".sb-add-setting-button").click()
    toast(page, "webdemo.max_results added")
    card.locator("[data-setting=max_results] input").wait_for()
    assert api(page, "/api/settings")["plugins"]["webdemo"]["max_results"] == 5

    secret.fill("n3w-secret")
    settled(card.locator(".sb-save"))  # the form was rebuilt with the new setting
    card.locator(".sb-save").click()
    toast(page, "webdemo: saved api_token")
    assert stored_overrides(served)["plugins"]["webdemo"]["api_token"] == "n3w-secret"
    assert card.locator("[data-setting=api_token] input").input_value() == ""  # masked again
    for name in ("api_token", "max_results", "region"):  # the config file's values are back
        settled(card.locator(f"[data-setting={name}] .sb-reset"))
        card.locator(f"[data-setting={name}] .sb-reset").click()
        toast(page, f"webdemo.{name} reset")
    shown = api(page, "/api/settings")["plugins"]["webdemo"]
    assert shown == {"api_token": "***", "region": "eu", **({"enabled": True} if "enabled" in shown else {})}
    assert stored_overrides(served)["plugins"]["webdemo"].keys() <= {"enabled"}


def test_phone_width_and_dark_theme(server, browser):
    served, _ = server
    console = Console()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.on("page", console.watch)
    page = context.new_page()
    log_in(page, served.url, *ADMIN)
    page.wait_for_selector(".sb-album-card")
    page.evaluate("sbToggleTheme()")
    page.wait_for_selector("body.body--dark")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.locator(".sb-queue-toggle").is_visible() and page.locator(".sb-play").is_visible()
    shot(page, "phone-dark")
    context.close()
    assert not console.errors, "\n".join(console.errors)


def test_reader_sees_no_admin_pages(server, browser):
    served, _ = server
    console = Console()
    context = browser.new_context()
    context.on("page", console.watch)
    page = context.new_page()
    log_in(page, served.url, *READER)
    page.wait_for_selector(".sb-album-card")
    assert page.locator(".sb-nav", has_text="Albums").count() == 1
    assert page.locator(".sb-nav", has_text="Scans").count() == 0
    assert page.locator(".sb-nav", has_text="Plugins").count() == 0
    page.goto(f"{served.url}/scans")
    page.wait_for_selector("text=Admins only")
    context.close()
    assert not console.errors, "\n".join(console.errors)
