from soniquebay_core import PluginManifest, hookimpl

MANIFEST = PluginManifest(id="needs_binary", version="1.0.0", requires_binaries=("no-such-binary-sb",))


@hookimpl
def enrich_track(track):
    return None
