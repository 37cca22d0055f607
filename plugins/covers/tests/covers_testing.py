"""Helpers for the covers plugin's tests: the plugin whether or not it is pip-installed, albums from a manifest."""
from __future__ import annotations

import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path

from soniquebay_core.config import Settings
from soniquebay_core.plugins import PluginHost, load_plugins
from soniquebay_core.schemas import AlbumSnapshot

PLUGIN_DIR = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("soniquebay_covers") is None:  # a checkout without bootstrap
    sys.path.insert(0, str(PLUGIN_DIR))

from soniquebay_covers import plugin


def fetch(album: AlbumSnapshot, **config):
    """The hook, called as the core calls it."""
    return plugin.fetch_cover(album, config)


def load_host(settings: Settings, config: dict) -> tuple[Settings, PluginHost]:
    """The core's built-in plugins and this one (installed or not) with ``config``; other installed plugins off."""
    others = {ep.name: {"enabled": False} for ep in entry_points(group="soniquebay")
              if ep.name != "covers" and (ep.dist is None or ep.dist.name != "soniquebay-core")}
    settings = settings.model_copy(update={"plugins": {**others, "covers": config}})
    host = load_plugins(settings, strict=True)
    if "covers" not in host.plugins:
        host.add_module("covers", plugin)
    return settings, host


def album_of(root: Path, manifest: dict, entry: dict, album_id: int = 1, **fields) -> AlbumSnapshot:
    """The snapshot the pipeline would hand over for one album of a generated library."""
    paths = sorted(str(root / t["path"]) for t in manifest["tracks"]
                   if t["path"].startswith(entry["path"] + "/") and not t["corrupt"])
    return AlbumSnapshot(id=album_id, title=entry["album"], albumartist=entry["albumartist"], track_paths=paths,
                         folders=sorted({p.rsplit("/", 1)[0] for p in paths}), **fields)


def folder_images(manifest: dict) -> dict[str, str]:
    """album folder -> the name of the image the generator put there"""
    return {e["path"].rsplit("/", 1)[0]: e["path"].rsplit("/", 1)[1]
            for e in manifest["extras"] if e["kind"] == "folder_image"}


def embedded(manifest: dict, entry: dict) -> bool:
    return any(t["has_embedded_cover"] for t in manifest["tracks"] if t["path"].startswith(entry["path"] + "/"))
