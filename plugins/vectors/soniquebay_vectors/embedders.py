"""Which embedder a configuration asks for, built once per process and shared by every call.

Settings (``[plugins.vectors]``):

- ``embedder``: ``"auto"`` (default: ``static`` on the ``pi`` profile, ``minilm`` elsewhere), ``"minilm"``
  (all-MiniLM-L6-v2, int8 ONNX) or ``"static"`` (a token table distilled from it; no network at run time);
- ``static_dims``: the static table's width (default 128);
- ``threads``: onnxruntime intra-op threads per MiniLM call (default 1: one short text is too small to split;
  the manifest's ``max_concurrency = 2`` runs two calls at once instead, which is faster on 2 cores);
- ``cache_dir``: where the exported model files live (default: ``models/`` in SoniqueBay's data dir).

The model name stored with each vector says which embedder made it (and the
audio part's layout), so switching embedder gives new vectors, never a mix.
"""
from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import describe, export

AUDIO_LAYOUT = f"audio{describe.AUDIO_DIMS}"
_lock = threading.Lock()
_built: dict[tuple, "Embedder"] = {}


class Embedder:
    """A text model plus the audio part: what the plugin's hooks use."""

    def __init__(self, name: str, model):
        self.name = f"{name}+{AUDIO_LAYOUT}"
        self.model = model
        self.dims = model.dims + describe.AUDIO_DIMS

    def embed(self, texts: list[str], audio: np.ndarray) -> np.ndarray:
        text = self.model.embed(texts)
        return np.stack([describe.combine(t, a) for t, a in zip(text, audio)])


@lru_cache(maxsize=1)
def _installation() -> tuple[str, Path]:
    """The profile and data dir SoniqueBay runs with (its settings file and environment)."""
    from soniquebay_core.config import load_settings
    from soniquebay_core.errors import ConfigError

    try:
        settings = load_settings()
    except ConfigError:
        return "desktop", Path(os.environ.get("SONIQUEBAY_DATA_DIR") or ".")
    return settings.profile, settings.data_dir


def choice(config: dict) -> str:
    wanted = config.get("embedder", "auto")
    if wanted == "auto":
        return "static" if _installation()[0] == "pi" else "minilm"
    if wanted not in ("minilm", "static"):
        raise ValueError(f"[plugins.vectors] embedder must be auto, minilm or static, not {wanted!r}")
    return wanted


def embedder_for(config: dict) -> Embedder:
    kind = choice(config)
    cache_dir = Path(config.get("cache_dir") or _installation()[1] / "models").expanduser()
    dims = int(config.get("static_dims", 128))
    threads = int(config.get("threads", 1))
    key = (kind, str(cache_dir), dims if kind == "static" else threads)
    with _lock:
        if key not in _built:
            _built[key] = _build(kind, cache_dir, dims, threads)
        return _built[key]


def _build(kind: str, cache_dir: Path, dims: int, threads: int) -> Embedder:
    if kind == "static":
        from .static import StaticEmbedder

        export.ensure(cache_dir, static_dims=dims)
        return Embedder(f"static-minilm-q8-{dims}", StaticEmbedder(cache_dir / export.static_file(dims)))
    from .minilm import MiniLM

    export.ensure(cache_dir)
    return Embedder("minilm-l6-v2-q8", MiniLM(cache_dir / export.MINILM_FILE, threads=threads))
