"""Entry point of a tag-reader worker process (see ``reader.TagReader``)."""
from soniquebay_core.scanner.reader import serve_reader

serve_reader()
