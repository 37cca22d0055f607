"""Entry point of a tag-reader worker process (see ``reader.TagReader``)."""
import os
import sys

from soniquebay_core.scanner.reader import serve_reader

serve_reader()
# Leave without finalising the interpreter: when the scanner stops listening mid-chunk, the
# thread taking chunks off stdin is still blocked in a read, and finalising under it aborts
# ("could not acquire lock for stdin ... at interpreter shutdown"). Answers were flushed as sent.
sys.stderr.flush()
os._exit(0)
