"""Records what it is told, and answers ``read_tags`` with nothing (so the real reader answers)."""
from soniquebay_core import PluginManifest, TrackPatch, hookimpl

MANIFEST = PluginManifest(id="recorder", version="1.0.0")
discovered: list[tuple[int, bool]] = []
read: list[str] = []


@hookimpl
def on_file_discovered(track, is_new):
    discovered.append((track.id, is_new))


@hookimpl(tryfirst=True)
def read_tags(path):
    read.append(path)


@hookimpl
def enrich_track(track, config):
    return TrackPatch(bpm=config.get("bpm", 120.0))
