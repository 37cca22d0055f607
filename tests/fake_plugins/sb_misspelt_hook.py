from soniquebay_core import PluginManifest, hookimpl

MANIFEST = PluginManifest(id="misspelt", version="1.0.0")


@hookimpl
def enrich_trak(track):
    return None
