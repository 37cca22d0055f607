"""The vectors plugin: a vector per track (``vectorize``) and per search text (``embed_text``).

It only makes vectors. The core stores them (``track_embeddings``), keeps the
search index, and answers similar tracks, radio, artists and hybrid search
(``soniquebay_core/vectors``). Settings: see ``embedders.py``.

The hooks import their modules when first called: every process loads this
module (the CLI too), and only workers and the API's searches embed.
"""
from __future__ import annotations

from soniquebay_core import Embedding, PluginManifest, ResourceClass, TrackSnapshot, hookimpl

MANIFEST = PluginManifest(
    id="vectors",
    version="1.0.0",
    description="Track and query vectors from the title, artists, album, genres, tags and audio features "
                "(all-MiniLM-L6-v2 as int8 ONNX, or a static table distilled from it on the pi profile).",
    resource_class=ResourceClass.HEAVY,
    max_concurrency=2,  # two one-thread calls at once: both cores (the ONNX session is shared)
    timeout_s=600,  # the first call exports the model (once per installation)
    retries=1,
    min_memory_mb=512,
    preload=("numpy", "onnxruntime", "tokenizers"),
)


@hookimpl
def vectorize(track: TrackSnapshot, config: dict) -> Embedding | None:
    """``None`` when the stored vector of this model was made from the same input (nothing to redo)."""
    from . import describe
    from .embedders import embedder_for

    embedder = embedder_for(config)
    text, audio = describe.text_of(track), describe.audio_of(track)
    digest = describe.input_hash(embedder.name, text, audio)
    if track.embedding_hashes.get(embedder.name) == digest:
        return None
    vector = embedder.embed([text], audio[None, :])[0]
    return Embedding(model=embedder.name, vector=vector.tolist(), input_hash=digest)


@hookimpl
def embed_text(text: str, config: dict) -> Embedding | None:
    import numpy as np

    from . import describe
    from .embedders import embedder_for

    embedder = embedder_for(config)
    vector = embedder.embed([text], np.zeros((1, describe.AUDIO_DIMS), dtype=np.float32))[0]
    return Embedding(model=embedder.name, vector=vector.tolist())
