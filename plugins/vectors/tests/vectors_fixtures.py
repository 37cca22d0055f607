"""Fixtures of the vectors plugin's tests (imported by the test modules; no conftest, file names are repo-wide)."""
from __future__ import annotations

from pathlib import Path

import pytest

CORE_PLUGINS = {"tags": "soniquebay_core.builtin.tags", "ignore": "soniquebay_core.builtin.ignore"}


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """MiniLM exported to int8 ONNX and the static table distilled from it: made once per test session."""
    from soniquebay_vectors import export

    cache = tmp_path_factory.mktemp("vector-models")
    export.ensure(cache, static_dims=128)
    return cache


def vectors_host(settings, embedder: str, cache: Path, **extra):
    """A plugin host with the tag reader, the ignore rules and the vectors plugin only."""
    from soniquebay_core.plugins import load_plugins

    configured = settings.model_copy(update={"plugins": {"vectors": {
        "enabled": True, "embedder": embedder, "cache_dir": str(cache), **extra}}})
    return load_plugins(configured, strict=True, entry_points_group=False,
                        modules={**CORE_PLUGINS, "vectors": "soniquebay_vectors.plugin"})
