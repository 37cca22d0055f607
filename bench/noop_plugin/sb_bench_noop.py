"""A plugin that does nothing, for bench/pipeline_bench.py: it measures the pipeline's own cost.

``enrich_track`` answers ``None`` ("nothing found"), so the core has nothing
to write but the stage state. ``max_concurrency`` is 2, the number of workers
the bench runs, so that neither worker (nor either embedded slot) waits on the
plugin's concurrency cap. The ``sb_bench_noop-1.0.dist-info`` folder next to
this file registers it in the ``soniquebay`` entry-point group: put this
folder on ``sys.path`` / ``PYTHONPATH`` to install it, take it off to remove it.
"""
from soniquebay_core import PluginManifest, hookimpl

MANIFEST = PluginManifest(id="bench_noop", version="1.0.0", max_concurrency=2,
                          description="does nothing: pipeline overhead benchmark")


@hookimpl
def enrich_track(track):
    return None
