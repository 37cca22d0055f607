"""Helpers shared by test modules (fixtures live in conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from corpus import IN_CI


def server_missing(what: str, why: object) -> None:
    """Locally a missing server skips with the reason; in CI it is a failure."""
    message = f"{what} is not reachable ({why})"
    if IN_CI:
        pytest.fail(f"{message}: CI requires it")
    pytest.skip(message)


def other_plugins_off() -> dict[str, dict]:
    """``[plugins]`` blocks switching off the plugins of other distributions installed beside the core
    (plugins/*): the core's tests see only the core's plugins and their own fakes."""
    from importlib.metadata import entry_points

    return {ep.name: {"enabled": False} for ep in entry_points(group="soniquebay")
            if ep.dist is not None and ep.dist.name not in ("soniquebay-core",) and not ep.dist.name.startswith("sb-")}


def other_plugins_off_toml() -> str:
    """The same, as a config file's lines, for processes started with their own config."""
    return "".join(f"[plugins.{name}]\nenabled = false\n" for name in other_plugins_off())


def install_entry_points(site: Path, distribution: str, entry_points: dict[str, str]) -> Path:
    """Make ``site`` hold an installed distribution declaring these ``soniquebay`` entry points.

    Putting ``site`` on ``sys.path`` (or PYTHONPATH) is then enough for
    ``importlib.metadata`` to find them, exactly as for a pip-installed plugin.
    """
    info = site / f"{distribution.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n")
    lines = "".join(f"{name} = {module}\n" for name, module in entry_points.items())
    (info / "entry_points.txt").write_text(f"[soniquebay]\n{lines}")
    return site
