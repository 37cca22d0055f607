"""The ``soniquebay`` command line.

Every command can print JSON (``--format json``) for scripts. Errors a user
can fix (bad config, missing folder, unreachable database or Redis) print one
line on stderr and exit 1; ``--debug`` shows tracebacks and makes plugin
failures fatal. Commands live in modules by concern; importing them here
registers them on the group.
"""


def main(argv: list[str] | None = None) -> int:
    """The console script. Kept import-free: worker processes that re-import the
    script's module (multiprocessing's spawn does) must not pay for the whole CLI."""
    from .entry import main as run

    return run(argv)
