"""A heavy plugin whose engine is imported lazily, and preloaded by workers (manifest ``preload``)."""
import os
import time

from soniquebay_core import Embedding, PluginManifest, ResourceClass, hookimpl

MANIFEST = PluginManifest(id="preloading", version="1.0.0", resource_class=ResourceClass.HEAVY,
                          preload=("sb_heavy_lib",))


@hookimpl
def vectorize(track):
    import sb_heavy_lib  # noqa: F401  (already there in a worker: no import cost per job)

    with open(os.environ["SB_CALL_LOG"], "a") as fh:
        fh.write(f"vectorize {track.id} {os.getpid()} {time.time():.4f}\n")
    return Embedding(model="preloaded", vector=[1.0])
