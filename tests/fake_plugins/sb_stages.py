"""A no-op plugin serving all three stages; each call is logged to $SB_CALL_LOG (one line per call)."""
import os
import time

from soniquebay_core import CoverCandidate, Embedding, PluginManifest, TrackPatch, hookimpl

MANIFEST = PluginManifest(id="stages", version="1.0.0", max_concurrency=4)
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082")


def log_call(stage: str, target: int) -> None:
    path = os.environ.get("SB_CALL_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(f"{stage} {target} {os.getpid()} {time.time():.4f}\n")
    delay = float(os.environ.get("SB_STAGE_DELAY", "0"))
    if delay:
        time.sleep(delay)


@hookimpl
def enrich_track(track):
    log_call("enrich_track", track.id)
    return TrackPatch(features={"title_length": len(track.title)}, tags=[{"name": "tested", "weight": 0.5}])


@hookimpl
def fetch_cover(album):
    log_call("fetch_cover", album.id)
    return CoverCandidate(data=PNG, mime="image/png", source="test")


@hookimpl
def vectorize(track):
    log_call("vectorize", track.id)
    return Embedding(model="test-2d", vector=[float(track.id), 1.0])
