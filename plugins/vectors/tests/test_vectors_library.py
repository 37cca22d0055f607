"""The vectors plugin on a generated 300-track library, through the pipeline and the API, on SQLite and PostgreSQL."""
from __future__ import annotations

import random
from collections import Counter
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import func, select
from vectors_fixtures import model_cache, vectors_host  # noqa: F401 (fixture)

from soniquebay_core import auth
from soniquebay_core.api.app import create_app
from soniquebay_core.models import TrackEmbedding
from soniquebay_core.pipeline.results import Outcome, write_outcomes
from soniquebay_core.schemas import TrackPatch


@asynccontextmanager
async def processed(settings, root, host):
    """An app whose library is scanned and whose stages have all run; yields (app, client)."""
    app = create_app(settings, host=host, periodic_sweeps=False)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        await runtime.scan([root])
        await runtime.wait_idle()
        async with runtime.db.engine.begin() as conn:
            user = await auth.add_user(conn, f"ada{id(app)}", "correct horse", "admin")  # one per app, same db
            token = await auth.issue_token(conn, user, "t")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            yield app, client


async def all_tracks(client) -> list[dict]:
    return (await client.get("/api/tracks", params={"limit": 500})).json()["items"]


def shares(a: dict, b: dict) -> bool:
    return bool(set(a["artists"]) & set(b["artists"]) or set(a["genres"]) & set(b["genres"]))


async def test_minilm_vectors_give_sensible_neighbours_search_radio_and_scenes(settings, library, model_cache):
    root, _ = library
    async with processed(settings, root, vectors_host(settings, "minilm", model_cache)) as (app, client):
        tracks = await all_tracks(client)
        async with app.state.runtime.db.engine.connect() as conn:
            models = dict((await conn.execute(select(TrackEmbedding.model, func.count())
                                              .group_by(TrackEmbedding.model))).all())
        assert models == {"minilm-l6-v2-q8+audio8": len(tracks)}
        status = (await client.get("/api/vectors/status")).json()
        assert status["tracks"] == len(tracks) and status["dims"] == 392
        assert status["store"] == ("sqlite-vec" if settings.database_url.startswith("sqlite") else "numpy")

        # neighbours share an artist or a genre far more often than random tracks do
        by_id = {t["id"]: t for t in tracks}
        rng = random.Random(3)
        seeds = rng.sample([t for t in tracks if t["genres"] and t["artists"]], 40)
        hits = baseline = 0
        for seed in seeds:
            similar = (await client.get(f"/api/vectors/tracks/{seed['id']}/similar", params={"limit": 5})).json()
            assert len(similar["items"]) == 5 and seed["id"] not in [s["id"] for s in similar["items"]]
            assert [s["score"] for s in similar["items"]] == sorted((s["score"] for s in similar["items"]),
                                                                    reverse=True)
            hits += sum(shares(seed, by_id[s["id"]]) for s in similar["items"])
            baseline += sum(shares(seed, other) for other in rng.sample(tracks, 5))
            for item in similar["items"]:
                if set(item["genres"]) & set(seed["genres"]):
                    assert any(w.startswith("shared genre") for w in item["why"])
        assert hits >= 0.8 * 5 * len(seeds) and hits > 2 * baseline

        # semantic search: an artist's name finds their tracks; hybrid search fuses it in, honouring filters
        artist = Counter(a for t in tracks for a in t["artists"]).most_common(1)[0][0]
        found = (await client.get("/api/vectors/search", params={"q": f"songs by {artist}", "limit": 5})).json()
        assert all(artist in by_id[i["id"]]["artists"] for i in found["items"][:3])
        plain = (await client.get("/api/search", params={"q": artist, "limit": 200})).json()
        assert set(t["id"] for t in tracks if artist in t["artists"]) <= {t["id"] for t in plain["items"]}
        genre = next(g for t in tracks for g in t["genres"])
        filtered = (await client.get("/api/search", params={"q": artist, "genre": genre, "limit": 200})).json()
        assert all(genre.lower() in [g.lower() for g in t["genres"]] for t in filtered["items"])

        # radio from a track: no repeats, never the seed, not stuck on one artist
        radio = (await client.get("/api/vectors/radio", params={"track": seeds[0]["id"], "length": 20})).json()
        ids = [i["id"] for i in radio["items"]]
        assert len(ids) == 20 == len(set(ids)) and seeds[0]["id"] not in ids
        assert all(a["artist"] != b["artist"] for a, b in zip(radio["items"], radio["items"][1:]) if a["artist"])
        assert (await client.get("/api/vectors/radio", params={"track": 1, "artist": 1})).status_code == 422

        # artists: scenes with labels; similar artists; artist radio
        scenes = (await client.get("/api/vectors/scenes")).json()["scenes"]
        assert len(scenes) >= 2 and all(s["label"] and s["sample"] for s in scenes)
        some_artist = scenes[0]["sample"][0]
        similar_artists = (await client.get(f"/api/vectors/artists/{some_artist['id']}/similar")).json()
        assert similar_artists["items"] and some_artist["id"] not in [a["id"] for a in similar_artists["items"]]
        assert all(a["sources"] == ["vectors"] for a in similar_artists["items"])
        scene = (await client.get(f"/api/vectors/artists/{some_artist['id']}/scene")).json()["scene"]
        assert scene["id"] == scenes[0]["id"]
        artist_radio = (await client.get("/api/vectors/radio", params={"artist": some_artist["id"]})).json()
        assert len(artist_radio["items"]) == 30
        assert (await client.get("/api/vectors/tracks/999999/similar")).status_code == 404


async def test_unchanged_tracks_are_not_embedded_again_and_changes_are(settings, library, model_cache,
                                                                       monkeypatch):
    from soniquebay_vectors.embedders import Embedder

    root, _ = library
    embedded: list[str] = []
    real = Embedder.embed

    def counting(self, texts, audio):
        embedded.extend(texts)
        return real(self, texts, audio)

    monkeypatch.setattr(Embedder, "embed", counting)
    host = vectors_host(settings, "static", model_cache)
    async with processed(settings, root, host) as (app, client):
        runtime = app.state.runtime
        first = len(embedded)
        assert first == len(await all_tracks(client))
        embedded.clear()
        # a new plugin version makes every track due again: nothing it embeds changed, so nothing is embedded
        host.plugins["vectors"].manifest = host.manifest("vectors").model_copy(update={"version": "9.9.9"})
        await runtime.sweep("vectors")
        await runtime.wait_idle()
        assert embedded == []
        async with runtime.db.engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(TrackEmbedding)) == first
        # another stage's patch (tempo, features) makes the track due again, and its vector changes
        target = (await all_tracks(client))[0]
        async with runtime.db.engine.connect() as conn:
            before = await conn.scalar(select(TrackEmbedding.vector).where(TrackEmbedding.track_id == target["id"]))
        async with runtime.db.engine.begin() as conn:  # what the analysis plugin's answer does
            await write_outcomes(conn, "analysis", "enrich_track", "1.0.0", [Outcome(target["id"], "done", value=TrackPatch(
                bpm=128.0, key="A minor", features={"energy": 0.9}))], settings.data_dir)
        await runtime.sweep("vectors")
        await runtime.wait_idle()
        assert len(embedded) == 1 and target["title"] in embedded[0]
        async with runtime.db.engine.connect() as conn:
            after = await conn.scalar(select(TrackEmbedding.vector).where(TrackEmbedding.track_id == target["id"]))
        assert after != before

    # switching embedder: the first search tells the API the plugin's new model; every track is redone with it
    switched = vectors_host(settings, "minilm", model_cache)
    async with processed(settings, root, switched) as (app, client):
        runtime = app.state.runtime
        assert (await client.get("/api/search", params={"q": "anything"})).status_code == 200
        await runtime.sweep("vectors")
        await runtime.wait_idle()
        async with runtime.db.engine.connect() as conn:
            models = dict((await conn.execute(select(TrackEmbedding.model, func.count())
                                              .group_by(TrackEmbedding.model))).all())
        assert models == {"minilm-l6-v2-q8+audio8": first}
        status = (await client.get("/api/vectors/status")).json()
        assert status["model"] == "minilm-l6-v2-q8+audio8" and status["tracks"] == first
