"""Search and typeahead over a scanned library, on SQLite (FTS5) and PostgreSQL (text search)."""
from __future__ import annotations

import unicodedata

import httpx

from soniquebay_core import auth
from soniquebay_core.api.app import create_app
from soniquebay_core.plugins import load_plugins


def ascii_of(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if ord(ch) < 128)


async def test_search_is_ranked_accent_insensitive_and_prefix_aware(api):
    client, root, manifest = api
    accented = next(t for t in manifest["tracks"] if not t["corrupt"] and t["has_tags"]
                    and any(ord(c) > 127 for c in t["artist"] or ""))
    word = next(w for w in accented["artist"].split() if any(ord(c) > 127 for c in w))
    typed = ascii_of(word)[:4].upper()  # "BJOR" for "Björk"
    found = (await client.get("/api/search", params={"q": typed, "limit": 200})).json()
    assert str(root / accented["path"]) in {t["path"] for t in found["items"]}
    assert found["total"] == len(found["items"]) or found["total"] > 200

    title_track = next(t for t in manifest["tracks"] if not t["corrupt"] and t["has_tags"]
                       and len(t["title"].split()) >= 3)
    ranked = (await client.get("/api/search", params={"q": title_track["title"]})).json()
    assert ranked["items"][0]["title"] == title_track["title"]


async def test_filters_narrow_and_facets_count(api):
    client, root, manifest = api
    everything = (await client.get("/api/search", params={"q": "the", "limit": 200})).json()
    assert everything["total"] > 0
    facets = everything["facets"]
    assert {"genre", "decade", "artist", "format"} <= set(facets)
    top_format = facets["format"][0]
    narrowed = (await client.get("/api/search", params={"q": "the", "format": top_format["value"],
                                                        "limit": 200})).json()
    assert narrowed["total"] == top_format["count"]
    assert {t["format"] for t in narrowed["items"]} == {top_format["value"]}
    decade = facets["decade"][0]
    in_decade = (await client.get("/api/search", params={"q": "the", "year_min": decade["value"],
                                                         "year_max": decade["value"] + 9})).json()
    assert in_decade["total"] == decade["count"]


async def test_a_genre_narrows_the_search_as_it_narrows_the_list(api):
    client, _, _ = api
    everything = (await client.get("/api/search", params={"q": "the", "limit": 200})).json()
    for genre in [f["value"] for f in everything["facets"]["genre"][:3]] + ["rock", "zzz"]:
        narrowed = (await client.get("/api/search", params={"q": "the", "genre": genre, "limit": 200})).json()
        listed = (await client.get("/api/tracks", params={"genre": genre, "limit": 500})).json()
        assert listed["total"] <= 500
        of_genre = {t["id"] for t in listed["items"]}
        assert [t["id"] for t in narrowed["items"]] == [t["id"] for t in everything["items"] if t["id"] in of_genre]
        assert narrowed["total"] == len(narrowed["items"])


async def test_key_facet_counts_and_narrows(api):
    client, root, manifest = api
    ranked = (await client.get("/api/search", params={"q": "the", "limit": 3})).json()["items"]
    for track in ranked:
        assert (await client.put(f"/api/tracks/{track['id']}/features", json={"key": "F#m"})).status_code == 200
    found = (await client.get("/api/search", params={"q": "the", "limit": 200})).json()
    assert {"value": "F#m", "count": len(ranked)} in found["facets"]["key"]
    narrowed = (await client.get("/api/search", params={"q": "the", "key": "F#m"})).json()
    assert sorted(t["id"] for t in narrowed["items"]) == sorted(t["id"] for t in ranked)


async def test_suggest_as_you_type(api):
    client, root, manifest = api
    artist = next(t["artists"][0] for t in manifest["tracks"] if t["has_tags"] and not t["corrupt"])
    typed = artist[:max(3, len(artist) - 2)]  # nearly typed out: it must be among the first few
    suggestions = (await client.get("/api/search/suggest", params={"q": typed})).json()
    assert artist in [a["name"] for a in suggestions["artists"]]
    assert all(a["name"].lower().startswith(typed.lower()) or f" {typed.lower()}" in a["name"].lower()
               for a in suggestions["artists"])
    album = manifest["albums"][0]["album"]
    albums = (await client.get("/api/search/suggest", params={"q": album[:4]})).json()["albums"]
    assert album in [a["title"] for a in albums]


async def test_bad_search_requests(api):
    client, _, _ = api
    assert (await client.get("/api/search", params={"q": ""})).status_code == 422
    nothing = (await client.get("/api/search", params={"q": "!!! ???"})).json()
    assert nothing["total"] == 0 and nothing["items"] == []


async def test_enrichment_tags_become_searchable(settings, library, fake_plugins):
    """(Fusing the tracks found by meaning is tested with the vectors plugin: plugins/vectors/tests.)"""
    root, manifest = library
    host = load_plugins(settings, modules={"stages": "sb_stages"})
    app = create_app(settings, host=host, periodic_sweeps=False)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        await runtime.scan([root])
        await runtime.wait_idle()  # the stages plugin tags every track "tested"
        async with runtime.db.engine.begin() as conn:
            user = await auth.add_user(conn, "ada", "correct horse", "admin")
            token = await auth.issue_token(conn, user, "t")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            tagged = (await client.get("/api/search", params={"q": "tested"})).json()
            assert tagged["total"] == (await client.get("/api/tracks")).json()["total"]
