"""Calling hook implementations one by one, so that one plugin cannot stop the others.

pluggy's own ``pm.hook.x()`` stops at the first exception and treats an
``async def`` implementation's coroutine as a non-None answer. The core
therefore walks ``get_hookimpls()`` itself, in pluggy's order (LIFO by
registration, ``tryfirst``/``trylast`` honoured, or an explicit order):

- ``call_each``: everyone contributes; an exception is handed to ``on_error``
  (or re-raised in strict mode) and the loop goes on.
- ``call_first``: the first non-``None`` answer wins; a raising source is
  reported and the next one is tried.
- ``call_one``: exactly one named plugin; its exception propagates, because
  the job runner decides between retry and failure.

Each implementation receives only the arguments it declares, plus ``config``
(its own settings block) if it asks for it.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pluggy

ErrorSink = Callable[[str, str, BaseException], None]
ConfigFor = Callable[[str], dict[str, Any]]


class Dispatcher:
    def __init__(self, pm: pluggy.PluginManager, config_for: ConfigFor, strict: bool = False):
        self.pm = pm
        self._config_for = config_for
        self.strict = strict
        # Hooks such as ignore_entries run for every folder of a scan: look things up once.
        self._impls: dict[str, list[pluggy.HookImpl]] = {}
        self._configs: dict[str, dict[str, Any]] = {}

    def forget(self) -> None:
        """Call after (un)registering plugins."""
        self._impls.clear()

    def config_for(self, plugin: str) -> dict[str, Any]:
        if plugin not in self._configs:
            self._configs[plugin] = self._config_for(plugin)
        return self._configs[plugin]

    def impls(self, hook: str, order: Iterable[str] | None = None) -> list[pluggy.HookImpl]:
        """Implementations in call order; with ``order``, only those plugins, in that order."""
        found = self._impls.get(hook)
        if found is None:
            found = self._impls[hook] = list(reversed(getattr(self.pm.hook, hook).get_hookimpls()))
        if order is None:
            return found
        by_name = {impl.plugin_name: impl for impl in found}
        return [by_name[name] for name in order if name in by_name]

    def _invoke(self, impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> Any:
        args = {name: self.config_for(impl.plugin_name) if name == "config" else kwargs[name]
                for name in impl.argnames}
        return impl.function(**args)

    def _results(self, hook: str, kwargs: dict[str, Any], on_error: ErrorSink | None,
                 order: Iterable[str] | None, strict: bool | None) -> Iterator[tuple[str, Any]]:
        strict = self.strict if strict is None else strict
        for impl in self.impls(hook, order):
            try:
                result = self._invoke(impl, kwargs)
                if result is not None and inspect.isawaitable(result):
                    if inspect.iscoroutine(result):
                        result.close()
                    raise TypeError(f"{impl.plugin_name}.{hook} is async; call it through the job runner")
            except Exception as exc:
                if strict or on_error is None:
                    raise
                on_error(impl.plugin_name, hook, exc)
                continue
            yield impl.plugin_name, result

    def call_each(self, hook: str, on_error: ErrorSink | None = None, strict: bool | None = None,
                  **kwargs: Any) -> list[tuple[str, Any]]:
        return [(name, r) for name, r in self._results(hook, kwargs, on_error, None, strict) if r is not None]

    def call_first(self, hook: str, on_error: ErrorSink | None = None, order: Iterable[str] | None = None,
                   strict: bool | None = None, **kwargs: Any) -> tuple[str, Any] | None:
        """First non-``None`` answer. ``strict=False`` isolates even in strict mode, for hooks whose
        contract is to raise on bad input (``read_tags`` on a corrupt file)."""
        for name, result in self._results(hook, kwargs, on_error, order, strict):
            if result is not None:
                return name, result
        return None

    async def call_one(self, plugin_id: str, hook: str, timeout: float | None = None, **kwargs: Any) -> Any:
        """Call one plugin's implementation; its exceptions propagate.

        A plain function runs in a worker thread so the event loop stays free; an
        ``async def`` one is awaited. Past ``timeout`` seconds a ``TimeoutError`` is
        raised (a thread cannot be stopped: it finishes in the background, its
        answer dropped).
        """
        impls = self.impls(hook, [plugin_id])
        if not impls:
            raise LookupError(f"plugin {plugin_id!r} does not implement {hook}")
        impl = impls[0]
        import asyncio  # here, not at the top: tag-reader processes use this module and never this method

        if inspect.iscoroutinefunction(impl.function):
            call = self._invoke(impl, kwargs)
        else:
            call = asyncio.to_thread(self._invoke, impl, kwargs)
        result = await asyncio.wait_for(call, timeout)
        if inspect.isawaitable(result):
            result = await asyncio.wait_for(result, timeout)
        return result
