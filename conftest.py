"""Fixtures shared by the core's tests (``tests/``) and every plugin's own tests (``plugins/*/tests``).

They live in ``tests/shared_fixtures.py``; ``tests/`` is put on the import path so any test can also use
``helpers`` and ``corpus`` from there. Test file names must be unique across the repository.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "tests"))

pytest_plugins = ["shared_fixtures"]
