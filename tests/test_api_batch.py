"""Batch writes (REST and GraphQL) and GraphQL queries, against a scanned library on both databases."""
from __future__ import annotations

import os
import shutil

import httpx
from sqlalchemy import func, select

from soniquebay_core.models import Album, Artist, Track

ARTISTS = "mutation($items: [ArtistInput!]!) { createArtists(items: $items) }"
ALBUMS = "mutation($items: [AlbumInput!]!) { createAlbums(items: $items) }"
TRACKS = "mutation($items: [TrackInput!]!) { createTracks(items: $items) }"
EDITS = "mutation($items: [TrackEditInput!]!) { updateTracks(items: $items) }"


def client_for(app, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers)


async def gql(client: httpx.AsyncClient, query: str, **variables) -> dict:
    answer = await client.post("/api/graphql", json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def count(app, statement) -> int:
    async with app.state.runtime.db.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(statement.subquery()))).scalar_one()


def copy_tracks(root, manifest, folder: str, how_many: int) -> list[str]:
    """Copies of good files of the library in a new folder under its root (their paths, resolved)."""
    target = root / folder
    target.mkdir(parents=True)
    good = [t for t in manifest["tracks"] if not t["corrupt"]][:how_many]
    paths = []
    for track in good:
        copy = target / os.path.basename(track["path"])
        shutil.copy2(root / track["path"], copy)
        paths.append(os.path.realpath(copy))
    return paths


# -- REST ------------------------------------------------------------------------------------------

async def test_artists_upsert_by_folded_name(api, app_and_tokens):
    client, _, _ = api
    app = app_and_tokens[0]
    known = next(a for a in (await client.get("/api/artists", params={"limit": 50})).json()["items"]
                 if a["name"].isascii())
    payload = {"items": [{"name": "Zoë Batch", "sort_name": "Batch, Zoë"}, {"name": known["name"].upper()},
                         {"name": "ZOE BATCH"}]}
    first = await client.post("/api/batch/artists", json=payload)
    assert first.status_code == 200, first.text
    ids = first.json()["ids"]
    assert ids[0] == ids[2] and ids[1] == known["id"]
    assert (await client.post("/api/batch/artists", json=payload)).json()["ids"] == ids
    found = (await client.get("/api/artists", params={"q": "zoe batch"})).json()
    assert found["total"] == 1
    assert found["items"][0] == {"id": ids[0], "name": "Zoë Batch", "sort_name": "Batch, Zoë", "mbid": None,
                                 "tracks": 0}
    assert (await client.get(f"/api/artists/{known['id']}")).json()["name"] == known["name"]  # first spelling stays

    clash = {"items": [{"name": "Clash", "mbid": "a" * 36}, {"name": "CLASH", "mbid": "b" * 36},
                       {"name": "Innocent Bystander"}]}
    refused = await client.post("/api/batch/artists", json=clash)
    assert refused.status_code == 409 and "clash" in refused.json()["error"]["message"]
    assert await count(app, select(Artist.id).where(Artist.name_key.in_(["clash", "innocent bystander"]))) == 0


async def test_albums_upsert_with_the_scanners_identity(api, app_and_tokens):
    client, _, _ = api
    app = app_and_tokens[0]
    scanned = (await client.get("/api/albums", params={"q": "spring song"})).json()["items"][0]
    payload = {"items": [{"title": "Batch Album", "albumartist": "Batch Artist", "year": 2001, "label": "Batch Rec"},
                         {"title": "SPRING SONG", "albumartist": "françois čapek", "label": "Čapek Records"},
                         {"title": "Batch Hits", "compilation": True}]}
    first = await client.post("/api/batch/albums", json=payload)
    assert first.status_code == 200, first.text
    ids = first.json()["ids"]
    assert ids[1] == scanned["id"] and len(set(ids)) == 3
    assert (await client.post("/api/batch/albums", json=payload)).json()["ids"] == ids
    assert await count(app, select(Album.id).where(Album.title_key.in_(["batch album", "batch hits"]))) == 2
    async with app.state.runtime.db.engine.connect() as conn:
        albums = {r.id: r for r in await conn.execute(select(Album).where(Album.id.in_(ids)))}
    assert albums[ids[0]].year == 2001 and albums[ids[0]].albumartist == "Batch Artist"
    assert albums[ids[1]].title == "Spring Song" and albums[ids[1]].label == "Čapek Records"
    assert albums[ids[2]].albumartist == "Various Artists"
    batch_artist = (await client.get("/api/artists", params={"q": "batch artist"})).json()["items"]
    assert [a["name"] for a in batch_artist] == ["Batch Artist"]

    no_artist = await client.post("/api/batch/albums", json={"items": [{"title": "Nobody's"}]})
    assert no_artist.status_code == 422 and "albumartist" in no_artist.text


async def test_tracks_from_files_then_a_scan_finds_them_unchanged(api, app_and_tokens):
    client, root, manifest = api
    app = app_and_tokens[0]
    paths = copy_tracks(root, manifest, "Batch Added/Copies", 3)
    items = [{"path": paths[0], "title": "Batch Title Override", "genres": ["Batchcore"]},
             *({"path": p} for p in paths[1:])]
    created = await client.post("/api/batch/tracks", json={"items": items})
    assert created.status_code == 200, created.text
    ids = created.json()["ids"]
    assert len(set(ids)) == 3
    first = (await client.get(f"/api/tracks/{ids[0]}")).json()
    assert first["path"] == paths[0] and first["title"] == "Batch Title Override"
    assert first["genres"] == ["Batchcore"] and first["duration"] and first["format"]
    original = next(t for t in manifest["tracks"] if os.path.basename(t["path"]) == os.path.basename(paths[1]))
    second = (await client.get(f"/api/tracks/{ids[1]}")).json()
    assert second["title"] == original["title"] and second["artist"] == original["artist"]  # the file's tags
    assert (await client.post("/api/batch/tracks", json={"items": items})).json()["ids"] == ids

    result = await app.state.runtime.scan([root])
    assert result.counts.new == 0 and result.counts.changed == 0
    assert (await client.get(f"/api/tracks/{ids[0]}")).json()["title"] == "Batch Title Override"


async def test_tracks_that_are_not_library_files_are_refused(api, app_and_tokens, tmp_path):
    client, root, manifest = api
    app = app_and_tokens[0]
    good = copy_tracks(root, manifest, "Batch Refused", 1)[0]
    outside = tmp_path / "outside.mp3"
    shutil.copy2(good, outside)
    hidden = root / "Batch Refused" / "._hidden.mp3"
    shutil.copy2(good, hidden)
    notes = root / "Batch Refused" / "notes.txt"
    notes.write_text("not music")
    listed = root / "Batch Refused" / "Outtakes" / "take.mp3"  # a .sbignore on the way lists its folder
    listed.parent.mkdir()
    shutil.copy2(good, listed)
    (root / "Batch Refused" / ".sbignore").write_text("Outtakes\n")
    bad = [str(outside), str(root / "Batch Refused" / "nope.mp3"), str(hidden), str(notes),
           str(root / "Batch Refused"), "relative/song.mp3", str(listed)]
    refused = await client.post("/api/batch/tracks", json={"items": [{"path": p} for p in [good, *bad]]})
    assert refused.status_code == 422
    message = refused.json()["error"]["message"]
    assert all(path in message for path in bad) and good not in message
    assert "outside every library root" in message

    broken = root / "Batch Refused" / "broken.flac"
    broken.write_bytes(b"fLaC" + bytes(range(256)) * 4)
    unreadable = await client.post("/api/batch/tracks", json={"items": [{"path": good}, {"path": str(broken)}]})
    assert unreadable.status_code == 422 and str(broken) in unreadable.json()["error"]["message"]
    assert await count(app, select(Track.id).where(Track.path == good)) == 0  # the batch changed nothing

    twice = await client.post("/api/batch/tracks", json={"items": [{"path": good}, {"path": good}]})
    assert twice.status_code == 409


async def test_limits_roles_and_malformed_batches(api, app_and_tokens):
    client, _, _ = api
    app, tokens, _, _ = app_and_tokens
    too_many = await client.post("/api/batch/artists", json={"items": [{"name": f"A{i}"} for i in range(501)]})
    assert too_many.status_code == 413 and "500" in too_many.json()["error"]["message"]
    assert (await client.patch("/api/batch/tracks", json={"items": [{}] * 501})).status_code == 413
    assert (await client.post("/api/batch/artists",
                              json={"items": [{"name": f"A{i}"} for i in range(500)]})).status_code == 200

    endpoints = [("POST", "/api/batch/artists"), ("POST", "/api/batch/albums"), ("POST", "/api/batch/tracks"),
                 ("PATCH", "/api/batch/tracks")]
    for method, path in endpoints:
        assert (await client.request(method, path, json={"items": []})).json() == {"ids": []}
    async with client_for(app, tokens["reader"]) as reader, client_for(app, None) as nobody:
        for method, path in endpoints:
            assert (await reader.request(method, path, json={"items": [{"name": "Rex"}]})).status_code == 403
            assert (await nobody.request(method, path, json={"items": []})).status_code == 401

    for body in ({"items": [{"name": "X", "colour": "red"}]}, {"items": [{}]}, {"items": "x"}, {}, [],
                 {"items": [{"name": "   "}]}):
        answer = await client.post("/api/batch/artists", json=body)
        assert answer.status_code == 422, body
    assert (await client.post("/api/batch/artists", content=b"{", headers={"content-type": "application/json"})
            ).status_code == 422
    assert (await client.patch("/api/batch/tracks", json={"items": [{"id": "x"}]})).status_code == 422


async def test_patch_edits_show_in_details_search_and_survive_a_scan(api, app_and_tokens):
    client, root, _ = api
    app = app_and_tokens[0]
    before = (await client.get("/api/tracks", params={"format": "flac", "limit": 1})).json()["items"][0]
    edit = {"id": before["id"], "title": "Quetzalcoatl Nocturne", "artist": "Batch Band feat. Guest Star",
            "genres": ["Batchwave"], "year": 1984, "track_number": 42}
    answer = await client.patch("/api/batch/tracks", json={"items": [edit]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["ids"] == [before["id"]]
    after = (await client.get(f"/api/tracks/{before['id']}")).json()
    assert (after["title"], after["artist"], after["artists"]) == (
        "Quetzalcoatl Nocturne", "Batch Band feat. Guest Star", ["Batch Band", "Guest Star"])
    assert (after["genres"], after["year"], after["track_number"]) == (["Batchwave"], 1984, 42)
    assert (after["album_id"], after["path"], after["duration"]) == (before["album_id"], before["path"],
                                                                   before["duration"])
    for words in ("quetzalcoatl nocturne", "batchwave", "guest star"):
        found = (await client.get("/api/search", params={"q": words})).json()
        assert [t["id"] for t in found["items"]] == [before["id"]], words
    by_artist = (await client.get("/api/tracks", params={"artist": "guest star"})).json()
    assert [t["id"] for t in by_artist["items"]] == [before["id"]]

    moved = await client.patch("/api/batch/tracks", json={"items": [
        {"id": before["id"], "album": "Batch Moved Album", "albumartist": "Batch Band"}]})
    assert moved.status_code == 200, moved.text
    after = (await client.get(f"/api/tracks/{before['id']}")).json()
    assert after["album"] == "Batch Moved Album" and after["album_id"] != before["album_id"]
    album = (await client.get(f"/api/albums/{after['album_id']}")).json()
    assert album["albumartist"] == "Batch Band" and [t["id"] for t in album["tracks"]] == [before["id"]]
    assert [t["id"] for t in (await client.get("/api/search", params={"q": "batch moved"})).json()["items"]] == [
        before["id"]]

    result = await app.state.runtime.scan([root])
    assert result.counts.changed == 0 and result.counts.new == 0
    assert (await client.get(f"/api/tracks/{before['id']}")).json()["title"] == "Quetzalcoatl Nocturne"

    unknown = await client.patch("/api/batch/tracks", json={"items": [{"id": before["id"], "title": "Never Written"},
                                                                      {"id": 2_147_483_647, "title": "X"}]})
    assert unknown.status_code == 422 and "2147483647" in unknown.json()["error"]["message"]
    assert (await client.get(f"/api/tracks/{before['id']}")).json()["title"] == "Quetzalcoatl Nocturne"
    twice = await client.patch("/api/batch/tracks", json={"items": [{"id": before["id"]}, {"id": before["id"]}]})
    assert twice.status_code == 409


# -- GraphQL ---------------------------------------------------------------------------------------

async def test_graphql_queries_answer_what_rest_answers(app_and_tokens):
    app, tokens, _, manifest = app_and_tokens
    artist = next(t["artist"] for t in manifest["tracks"] if not t["corrupt"] and t["year"])
    async with client_for(app, tokens["reader"]) as client:
        rest = (await client.get("/api/tracks", params={"artist": artist, "year_min": 1900, "year_max": 2100,
                                                        "limit": 500})).json()
        answer = await gql(client, "query($artist: String) { tracks(artist: $artist, yearMin: 1900, yearMax: 2100, "
                                    "limit: 500) { total items { id title artist album year path genres } } }",
                           artist=artist)
        fields = ("id", "title", "artist", "album", "year", "path", "genres")
        assert answer["data"]["tracks"]["total"] == rest["total"] > 0
        assert answer["data"]["tracks"]["items"] == [{k: t[k] for k in fields} for t in rest["items"]]

        rest = (await client.get("/api/albums", params={"year_min": 1990, "sort": "-year", "limit": 20})).json()
        answer = await gql(client, '{ albums(yearMin: 1990, sort: "-year", limit: 20) '
                                    '{ total items { id title year trackCount } } }')
        assert answer["data"]["albums"] == {"total": rest["total"], "items": [
            {"id": a["id"], "title": a["title"], "year": a["year"], "trackCount": a["tracks"]} for a in rest["items"]]}

        rest = (await client.get("/api/artists", params={"sort": "-tracks", "limit": 5})).json()
        answer = await gql(client, '{ artists(sort: "-tracks", limit: 5) { items { id name trackCount } } }')
        assert answer["data"]["artists"]["items"] == [
            {"id": a["id"], "name": a["name"], "trackCount": a["tracks"]} for a in rest["items"]]

        top = rest["items"][0]["id"]
        detail = (await client.get(f"/api/artists/{top}")).json()
        answer = await gql(client, "query($id: Int!) { artist(id: $id) { name albums { id title } } }", id=top)
        assert answer["data"]["artist"] == {"name": detail["name"], "albums": [
            {"id": a["id"], "title": a["title"]} for a in detail["albums"]]}
        album_id = detail["albums"][0]["id"]
        album = (await client.get(f"/api/albums/{album_id}")).json()
        answer = await gql(client, "query($id: Int!) { album(id: $id) { title trackCount tracks { id } } }",
                           id=album_id)
        assert answer["data"]["album"] == {"title": album["title"], "trackCount": len(album["tracks"]),
                                           "tracks": [{"id": t["id"]} for t in album["tracks"]]}
        track = album["tracks"][0]
        answer = await gql(client, "query($id: Int!) { track(id: $id) { path stages features } }", id=track["id"])
        assert answer["data"]["track"] == {"path": track["path"], "stages": track["stages"],
                                           "features": track["features"]}

        missing = await gql(client, "{ track(id: 2147483647) { id } album(id: 2147483647) { id } }")
        assert missing["data"] == {"track": None, "album": None}
        too_big = await gql(client, "{ tracks(limit: 501) { total } }")
        assert too_big["errors"][0]["extensions"]["status"] == 422
        assert too_big["errors"][0]["extensions"]["details"][0]["where"] == "limit"
        bad_sort = await gql(client, '{ tracks(sort: "colour") { total } }')
        assert "cannot sort by 'colour'" in bad_sort["errors"][0]["message"]

    async with client_for(app, None) as nobody:
        assert (await nobody.post("/api/graphql", json={"query": "{ tracks { total } }"})).status_code == 401


async def test_graphql_mutations_share_the_batch_service(app_and_tokens):
    app, tokens, root, manifest = app_and_tokens
    artists = [{"name": "Graph Artist", "sortName": "Artist, Graph"}]
    async with client_for(app, tokens["admin"]) as admin, client_for(app, tokens["reader"]) as reader:
        refused = await gql(reader, ARTISTS, items=artists)
        assert refused["data"] is None and refused["errors"][0]["message"] == "this needs the admin role"
        assert await count(app, select(Artist.id).where(Artist.name_key == "graph artist")) == 0

        created = await gql(admin, ARTISTS, items=artists)
        rest = await admin.post("/api/batch/artists", json={"items": [{"name": "GRAPH ARTIST"}]})
        assert created["data"]["createArtists"] == rest.json()["ids"]
        found = (await admin.get("/api/artists", params={"q": "graph artist"})).json()["items"]
        assert [(a["name"], a["sort_name"]) for a in found] == [("Graph Artist", "Artist, Graph")]

        albums = await gql(admin, ALBUMS, items=[{"title": "Graph Album", "albumartist": "Graph Artist"}])
        rest = await admin.post("/api/batch/albums", json={"items": [{"title": "graph album",
                                                                      "albumartist": "graph artist"}]})
        assert albums["data"]["createAlbums"] == rest.json()["ids"]

        path = copy_tracks(root, manifest, "Graph Added", 1)[0]
        tracks = await gql(admin, TRACKS, items=[{"path": path, "album": "Graph Album",
                                                  "albumartist": "Graph Artist"}])
        track_id = tracks["data"]["createTracks"][0]
        assert (await admin.get(f"/api/tracks/{track_id}")).json()["album_id"] == albums["data"]["createAlbums"][0]
        edited = await gql(admin, EDITS, items=[{"id": track_id, "title": "Graph Edited"}])
        assert edited["data"]["updateTracks"] == [track_id]
        assert (await admin.get(f"/api/tracks/{track_id}")).json()["title"] == "Graph Edited"

        too_many = await gql(admin, ARTISTS, items=[{"name": f"G{i}"} for i in range(501)])
        assert too_many["errors"][0]["extensions"]["status"] == 413
        invalid = await gql(admin, ARTISTS, items=[{"name": "Fine"}, {"name": "  "}])
        assert invalid["errors"][0]["extensions"]["status"] == 422
        assert invalid["errors"][0]["extensions"]["details"][0]["where"] == "items.1.name"
        outside = await gql(admin, TRACKS, items=[{"path": "/etc/hostname"}])
        assert outside["errors"][0]["extensions"]["status"] == 422
        assert "/etc/hostname: outside every library root" in outside["errors"][0]["message"]
        twins = [{"name": "Twin", "mbid": "a" * 36}, {"name": "twin", "mbid": "b" * 36}]
        clash = await gql(admin, ARTISTS, items=twins)
        assert clash["errors"][0]["extensions"]["status"] == 409
