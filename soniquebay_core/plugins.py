"""Finding, checking and enabling plugins.

Plugins are modules named by entry points in the ``soniquebay`` group; the
core's own behaviour (tag reading, ignore rules) is registered the same way by
the core distribution. Each entry point is loaded in its own ``try`` so that a
plugin that fails to import is reported and the program goes on
(``load_setuptools_entrypoints`` would stop at the first one).

One name everywhere: the entry-point name is the manifest id, the config key
``[plugins.<id>]``, the pluggy plugin name and the logger name
``soniquebay.plugins.<id>``.

Whether a loaded plugin runs is decided here, in this order: essential plugins
always run; a plugin whose binaries or memory needs are not met cannot run; the
user's ``enabled = true/false`` wins next; otherwise the hardware profile
decides (heavy plugins are off by default on ``pi``).
"""
from __future__ import annotations

import importlib
import logging
import shutil
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Literal

import pluggy

from . import hookspecs
from .config import Settings
from .dispatch import Dispatcher
from .manifest import PluginManifest

log = logging.getLogger("soniquebay.plugins")

GROUP = "soniquebay"
Status = Literal["enabled", "disabled", "failed"]


@dataclass
class PluginInfo:
    id: str
    status: Status
    reason: str
    manifest: PluginManifest | None = None
    module: str | None = None
    distribution: str | None = None
    hooks: list[str] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return self.status == "enabled"

    def as_dict(self) -> dict:
        m = self.manifest
        return {
            "id": self.id,
            "status": self.status,
            "enabled": self.enabled,
            "reason": self.reason,
            "version": m.version if m else None,
            "hooks": self.hooks,
            "resource_class": m.resource_class.value if m else None,
            "queue": m.queue_name if m else None,
            "network_hosts": [h.model_dump() for h in m.network_hosts] if m else [],
            "distribution": self.distribution,
            "module": self.module,
        }


class PluginHost:
    """The loaded plugins, their status, and a dispatcher over the enabled ones."""

    def __init__(self, settings: Settings, strict: bool = False,
                 recipe: tuple[bool, dict[str, str]] = (True, {})):
        self.settings = settings
        self.recipe = recipe  # how it was built: (entry points?, extra modules), for worker processes
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.dispatch = Dispatcher(self.pm, settings.plugin_config, strict=strict)

    @property
    def enabled(self) -> list[PluginInfo]:
        return [p for p in self.plugins.values() if p.enabled]

    def manifest(self, plugin_id: str) -> PluginManifest:
        info = self.plugins[plugin_id]
        assert info.manifest is not None
        return info.manifest

    def version_of(self, plugin_id: str) -> str:
        return self.manifest(plugin_id).version

    def modules_serving(self, hook: str) -> dict[str, str]:
        """``{plugin id: module}`` of the enabled plugins implementing ``hook``, in load order.

        Enough to build a host (``load_plugins(modules=...)``) in a process that only
        calls that hook: a tag reader need not import the other plugins' modules.
        """
        serving = {impl.plugin_name for impl in self.dispatch.impls(hook)}
        return {name: info.module for name, info in self.plugins.items() if name in serving and info.module}

    def stage_plugins(self, hook: str) -> list[str]:
        """Enabled plugins implementing a stage hook, in call order."""
        return [impl.plugin_name for impl in self.dispatch.impls(hook)]

    def add_module(self, name: str, module: ModuleType, distribution: str | None = None) -> PluginInfo:
        """Check one plugin module and register it if it may run."""
        manifest = getattr(module, "MANIFEST", None)
        if not isinstance(manifest, PluginManifest):
            return self._failed(name, f"module {module.__name__} has no MANIFEST = PluginManifest(...)",
                                module.__name__, distribution)
        if manifest.id != name:
            return self._failed(name, f"manifest id {manifest.id!r} differs from entry-point name {name!r}",
                                module.__name__, distribution)
        if name in self.plugins:
            return self._failed(name, f"a plugin named {name!r} is already loaded from "
                                      f"{self.plugins[name].module}", module.__name__, distribution)
        status, reason = self._decide(manifest)
        info = PluginInfo(name, status, reason, manifest, module.__name__, distribution)
        self.plugins[name] = info
        if status == "enabled":
            try:
                self.dispatch.forget()
                self.pm.register(module, name=name)
                self.pm.check_pending()
            except Exception as exc:  # misspelt hook name, bad signature
                if self.pm.is_registered(module):
                    self.pm.unregister(module)
                info.status, info.reason = "failed", f"invalid hook implementation: {exc}"
                log.error("plugin %s: %s", name, info.reason)
                return info
            info.hooks = sorted(h.name for h in self.pm.get_hookcallers(module) or [])
        else:
            info.hooks = sorted(n for n in dir(module) if hasattr(getattr(module, n), "soniquebay_impl"))
        return info

    def _failed(self, name: str, reason: str, module: str | None, dist: str | None) -> PluginInfo:
        log.error("plugin %s failed to load: %s", name, reason)
        info = PluginInfo(name, "failed", reason, None, module, dist)
        self.plugins.setdefault(name, info)
        return info

    def _decide(self, m: PluginManifest) -> tuple[Status, str]:
        if m.essential:
            return "enabled", "essential"
        missing = [b for b in m.requires_binaries if shutil.which(b) is None]
        if missing:
            return "disabled", f"needs {', '.join(missing)} on PATH"
        if m.min_memory_mb and m.min_memory_mb > _memory_mb():
            return "disabled", f"needs {m.min_memory_mb} MB of memory, this machine has {_memory_mb()} MB"
        wanted = self.settings.plugins.get(m.id, {}).get("enabled")
        if wanted is True:
            return "enabled", "enabled in config"
        if wanted is False:
            return "disabled", "disabled in config"
        if m.heavy and self.settings.profile == "pi":
            return "disabled", f"heavy; off by default on the pi profile (set [plugins.{m.id}] enabled = true)"
        return "enabled", f"default for the {self.settings.profile} profile"

    def load_entry_point(self, ep: EntryPoint) -> PluginInfo:
        try:
            module = ep.load()
        except Exception as exc:
            return self._failed(ep.name, f"import failed: {type(exc).__name__}: {exc}", ep.value,
                                ep.dist.name if ep.dist else None)
        if not isinstance(module, ModuleType):
            return self._failed(ep.name, f"entry point {ep.value} must name a module", ep.value, None)
        return self.add_module(ep.name, module, ep.dist.name if ep.dist else None)


def load_plugins(settings: Settings, *, strict: bool = False, entry_points_group: bool = True,
                 modules: dict[str, str] | None = None) -> PluginHost:
    """Build a plugin host: every entry point of the group, then any extra ``{id: module}``.

    Tests pass ``entry_points_group=False`` and name the modules they want.
    """
    host = PluginHost(settings, strict=strict, recipe=(entry_points_group, dict(modules or {})))
    if entry_points_group:
        for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
            host.load_entry_point(ep)
    for name, module_name in (modules or {}).items():
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            host._failed(name, f"import failed: {type(exc).__name__}: {exc}", module_name, None)
            continue
        host.add_module(name, module)
    return host


def _memory_mb() -> int:
    import psutil  # here, not at the top: most plugins ask for no minimum, and tag-reader processes load none that do

    return psutil.virtual_memory().total // (1024 * 1024)
