"""An async cover source and a vectorizer: what later stage plugins will look like."""
from soniquebay_core import CoverCandidate, Embedding, PluginManifest, hookimpl

MANIFEST = PluginManifest(id="async_sources", version="1.0.0")


@hookimpl
async def fetch_cover(album):
    if album.mb_albumid is None:
        return None
    return CoverCandidate(data=b"\x89PNG fake", mime="image/png", source="test")


@hookimpl
def vectorize(track):
    return Embedding(model="test-2d", vector=[float(len(track.title)), 1.0])


@hookimpl
def register_commands(cli):
    import click

    @cli.command("hello-plugin")
    def hello():
        """Say hello from a plugin."""
        click.echo("hello from a plugin")
