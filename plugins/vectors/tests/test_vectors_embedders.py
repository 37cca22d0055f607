"""The embedders: MiniLM as int8 ONNX is faithful to the packaged model, the static table is sensible, the hooks
skip unchanged tracks, and the audio part carries the analysis."""
from __future__ import annotations

import os

import numpy as np
import pytest
from vectors_fixtures import model_cache  # noqa: F401 (fixture)

from soniquebay_core import TrackSnapshot
from soniquebay_vectors import describe, embedders, plugin

SENTENCES = ["Blue in Green\nby Miles Davis\ngenre: Jazz", "So What\nby Miles Davis\ngenre: Jazz, Modal",
             "Master of Puppets\nby Metallica\ngenre: Thrash Metal", "calm piano music for a rainy night",
             "aggressive heavy guitars"]


def track(**values) -> TrackSnapshot:
    return TrackSnapshot(**{"id": 1, "path": "/m/a.flac", "format": "flac", "title": "Blue in Green",
                            "artist": "Miles Davis", "artists": ["Miles Davis"], "album": "Kind of Blue",
                            "year": 1959, "genres": ["Jazz"], **values})


def test_int8_onnx_minilm_matches_the_packaged_sentence_transformer(model_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    from soniquebay_vectors.export import model_dir

    reference = SentenceTransformer(str(model_dir()), device="cpu").encode(SENTENCES, normalize_embeddings=True)
    ours = embedders.embedder_for({"embedder": "minilm", "cache_dir": str(model_cache)}).model.embed(SENTENCES)
    assert ours.shape == (len(SENTENCES), 384)
    assert (np.sum(ours * reference, axis=1) > 0.98).all()  # int8 weights, same model
    assert np.abs((ours @ ours.T) - (reference @ reference.T)).max() < 0.05  # pairwise similarities kept


@pytest.mark.parametrize("kind", ["minilm", "static"])
def test_texts_that_mean_alike_land_near(model_cache, kind):
    model = embedders.embedder_for({"embedder": kind, "cache_dir": str(model_cache)}).model
    v = model.embed(SENTENCES)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]  # Miles Davis with Miles Davis, not with Metallica
    assert v[4] @ v[2] > v[4] @ v[0]  # heavy guitars with thrash metal


def test_vectorize_skips_an_unchanged_track_and_redoes_a_changed_one(model_cache):
    config = {"embedder": "static", "cache_dir": str(model_cache)}
    first = plugin.vectorize(track(), config)
    assert first.model == "static-minilm-q8-128+audio8" and len(first.vector) == 136 and len(first.input_hash) == 64
    assert plugin.vectorize(track(embedding_hashes={first.model: first.input_hash}), config) is None
    # another model's hash does not count; a change of what is embedded does
    assert plugin.vectorize(track(embedding_hashes={"other": first.input_hash}), config) is not None
    changed = plugin.vectorize(track(embedding_hashes={first.model: first.input_hash}, bpm=92.0), config)
    assert changed is not None and changed.input_hash != first.input_hash
    retitled = plugin.vectorize(track(embedding_hashes={first.model: first.input_hash}, tags=["late night"]), config)
    assert retitled is not None and retitled.vector != first.vector
    query = plugin.embed_text("Miles Davis", config)
    assert query.model == first.model and len(query.vector) == len(first.vector) and query.input_hash is None


def test_the_audio_part_holds_the_analysis_and_is_zero_without_it():
    assert not describe.audio_of(track()).any()
    analysed = describe.audio_of(track(bpm=128.0, key="A minor", features={
        "energy": 0.8, "danceability": 0.6, "loudness_lufs": -9.0, "spectral_centroid_hz": 2500, "odd": "x"}))
    assert analysed.shape == (describe.AUDIO_DIMS,) and np.count_nonzero(analysed) >= 6
    assert np.linalg.norm(analysed) <= describe.AUDIO_WEIGHT + 1e-6
    c_major = describe.audio_of(track(key="C major"))
    assert np.allclose(c_major[1:3], describe.audio_of(track(key="Am"))[1:3])  # relative keys sit together
    assert not describe.audio_of(track(features={"energy": float("nan")})).any()
    text = describe.text_of(track(tags=["modal", "trumpet"]))
    assert text.splitlines() == ["Blue in Green", "by Miles Davis", "from the album Kind of Blue",
                                 "released in 1959", "genre: Jazz", "tags: modal, trumpet"]


def test_the_embedder_follows_the_settings(model_cache, monkeypatch):
    monkeypatch.setattr(embedders, "_installation", lambda: ("pi", model_cache))
    assert embedders.choice({}) == "static"
    monkeypatch.setattr(embedders, "_installation", lambda: ("desktop", model_cache))
    assert embedders.choice({}) == "minilm" and embedders.choice({"embedder": "static"}) == "static"
    with pytest.raises(ValueError, match="auto, minilm or static"):
        embedders.choice({"embedder": "word2vec"})
    small = embedders.embedder_for({"embedder": "static", "cache_dir": str(model_cache), "static_dims": 128})
    assert small is embedders.embedder_for({"embedder": "static", "cache_dir": str(model_cache)})  # built once


def test_the_worker_never_imports_torch(model_cache):
    """Exporting needs torch; it runs in a subprocess, so the embedding process stays small."""
    import subprocess
    import sys

    code = ("import sys; from soniquebay_vectors.embedders import embedder_for; "
            f"e = embedder_for({{'embedder': 'minilm', 'cache_dir': {str(model_cache)!r}}}); "
            "import numpy as np; e.embed(['x'], np.zeros((1, 8), 'float32')); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.stdout.strip() == "False"
