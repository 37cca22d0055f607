from soniquebay_core import hookimpl


@hookimpl
def enrich_track(track):
    return None
