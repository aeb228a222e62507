"""Registering, checking, ordering and configuring plugins: pluggy registers and checks, filterd orders and calls.

A plugin is a module, or an instance: a class named in filterd_plugins (or by an entry point, or given to
filterd.testing) is instantiated once per chain, so two chains in one process (tests, a reload) never share its
state. What a plugin's `configure` hook returns is its settings, given to its hooks that take `settings`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable

import pluggy

from filterd import hookspecs
from filterd.config import Config, ConfigError
from filterd.fatal import raised
from filterd.plugin_lookup import ENTRY_POINT_GROUP, PluginError, PluginFinder, PluginNameError
from filterd.verdict import CHANGES, REPLIES

__all__ = ["ENTRY_POINT_GROUP", "Impl", "ParameterError", "PluginError", "PluginNameError", "Plugins", "hookimpl",
           "make_manager"]
hookimpl = pluggy.HookimplMarker("filterd")
"""Marks a plugin's function (or method) as the implementation of the filterd hook of the same name."""


class ParameterError(ValueError):
    """A plugin's refusal of a parameter's value, raised in its `configure` (or `changes`) hook.

    filterd stops at start-up with `filterd: fatal: main.cf:LINE: NAME: REASON`, LINE being where the value was
    set (`NAME (default)` without a line when it was not set), as for filterd's own parameters.
    """

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class Impl:
    """One plugin's implementation of one hook, with the arguments it asks for."""

    plugin: str
    function: Callable[..., Any]
    argnames: tuple[str, ...]
    changes: frozenset[str] | None = None
    """What the plugin declared with the `changes` hook; None: it may make any change."""
    settings: Any = None
    """What the plugin's `configure` hook returned: the `settings` argument of its hooks."""


def make_manager() -> pluggy.PluginManager:
    """A fresh plugin manager with filterd's hook specifications (no global state)."""
    pm = pluggy.PluginManager("filterd")
    pm.add_hookspecs(hookspecs)
    return pm


def one_line(exc: Exception) -> str:
    """pluggy's multi-line message as one line."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def defined_in(function: Callable[..., Any]) -> tuple[str | None, int]:
    """The file and line where a hook function is defined (a method's function, for a class's plugin)."""
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    return (code.co_filename, code.co_firstlineno) if code else (None, 0)


def _at(function: Callable[..., Any]) -> str:
    filename, lineno = defined_in(function)
    return f"{filename}:{lineno}: " if filename else ""


def hook_names(pm: pluggy.PluginManager) -> list[str]:
    """The hooks filterd has (those with a specification in filterd.hookspecs)."""
    return sorted(name for name, caller in vars(pm.hook).items() if not name.startswith("_") and caller.has_spec())


def unknown_hook(hook: str, known: list[str]) -> str:
    close = difflib.get_close_matches(hook, known, 1)
    hint = f'did you mean "{close[0]}"?' if close else f"filterd's hooks: {', '.join(known)}"
    return f'unknown hook "{hook}" ({hint})'


def check_hooks(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """A hook filterd does not have, or an argument its hook does not pass, stops start-up naming the closest."""
    for attr in dir(plugin):
        opts = pm.parse_hookimpl_opts(plugin, attr)
        if opts is None:
            continue
        function, hook = getattr(plugin, attr), opts.get("specname") or attr
        caller = getattr(pm.hook, hook, None)
        if caller is None or not caller.has_spec():
            if not opts.get("optionalhook"):
                raise PluginError(f"plugin {name}: {_at(function)}{unknown_hook(hook, hook_names(pm))}")
            continue
        spec = caller.spec
        takes = spec.argnames + spec.kwargnames
        extra = [a for a in pluggy.HookImpl(plugin, name, function, opts).argnames if a not in takes]
        if extra:
            raise PluginError(f'plugin {name}: {_at(function)}hook {hook} has no argument "{extra[0]}" '
                              f"(it takes {', '.join(spec.argnames)})")


def instance(found: object, name: str) -> object:
    """The plugin to register: a class's new instance (one per chain), anything else as it is."""
    if not isinstance(found, type):
        return found
    try:
        return found()
    except Exception as exc:
        raise PluginError(f"plugin {name}: cannot create {found.__qualname__}: {raised(exc)}") from exc


def register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Register one plugin under its filterd_plugins name, its hooks checked first."""
    other = pm.get_name(plugin)
    if other is not None:
        raise PluginNameError(f'plugin "{name}" is plugin "{other}" again, under another name')
    check_hooks(pm, plugin, name)
    try:
        pm.register(plugin, name=name)
    except (ValueError, pluggy.PluginValidationError) as exc:
        raise PluginError(f"plugin {name}: {one_line(exc)}") from exc


class Plugins:
    """The registered plugins in filterd_plugins order, and each hook's implementations in that order."""

    def __init__(self, manager: pluggy.PluginManager, order: list[str]):
        self.manager = manager
        self.order = order
        self.declared: dict[str, frozenset[str] | None] = {}
        self.settings: dict[str, Any] = {}
        """Each plugin's settings: what its `configure` hook returned."""
        self._impls: dict[str, tuple[Impl, ...]] = {}

    @classmethod
    def load(cls, names: list[str], extra: dict[str, object] | None = None,
             directory: str | None = None) -> Plugins:
        """Find and register the named plugins (`extra` objects by name) in order, a class as a new instance of
        its own; a misspelt hook fails here.

        `directory` is the plugin directory (filterd_plugin_directory), looked in after the entry points.
        """
        pm = make_manager()
        order: list[str] = []
        found: list[tuple[object, str]] = []
        objects = dict(extra or {})
        finder = None
        for name in names:
            if name in order:
                raise PluginNameError(f'plugin "{name}" is listed twice')
            if name not in objects and finder is None:
                finder = PluginFinder(directory)
            plugin = objects.pop(name) if name in objects else finder.find(name)
            for other, other_name in found:
                if other is plugin:
                    raise PluginNameError(f'plugin "{name}" is plugin "{other_name}" again, under another name')
            found.append((plugin, name))
            register(pm, instance(plugin, name), name)
            order.append(name)
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {pm.get_name(exc.plugin)}: {one_line(exc)}") from exc
        return cls(pm, order)

    def impls(self, hook: str) -> tuple[Impl, ...]:
        """Implementations of `hook` in filterd_plugins order (pluggy itself calls last-registered first)."""
        cached = self._impls.get(hook)
        if cached is None:
            caller = getattr(self.manager.hook, hook)
            by_plugin = {impl.plugin_name: impl for impl in caller.get_hookimpls()}
            cached = tuple(
                Impl(name, by_plugin[name].function, tuple(by_plugin[name].argnames), self.declared.get(name),
                     self.settings.get(name))
                for name in self.order
                if name in by_plugin
            )
            self._impls[hook] = cached
        return cached

    def has(self, hook: str) -> bool:
        return bool(self.impls(hook))

    def call_all(self, hook: str, config: Config | None = None, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a start-up hook (parameters, configure, changes) on every plugin, in order, synchronously.

        A plugin's refusal of a value goes up as a ConfigError at the parameter's line: a ParameterError (given
        `config`), or `raise config.error(name, reason)`. Any other exception becomes a PluginError naming the
        plugin, the hook and where it was raised.
        """
        results = []
        for impl in self.impls(hook):
            args = {**kwargs, "config": config, "settings": self.settings.get(impl.plugin)}
            try:
                results.append((impl.plugin, impl.function(*(args[a] for a in impl.argnames))))
            except ConfigError:
                raise
            except ParameterError as exc:
                if config is None:
                    raise PluginError(f"plugin {impl.plugin}: {hook}: {raised(exc)}") from exc
                raise config.error(exc.name, exc.reason) from None
            except Exception as exc:
                where = raised(exc, prefer=defined_in(impl.function)[0])
                raise PluginError(f"plugin {impl.plugin}: {hook}: {where}") from exc
        return results

    def configure(self, config: Config) -> None:
        """Give every plugin the configuration in force (its `configure` hook's answer becomes its settings),
        then read what changes each declares."""
        self.settings = dict(self.call_all("configure", config))
        self.declare(config)

    def declare(self, config: Config | None = None) -> None:
        """Read every plugin's `changes` declaration (after configure: it may depend on the configuration)."""
        self.declared = {name: declared_changes(name, result) for name, result in self.call_all("changes", config)}
        self._impls.clear()


def declared_changes(plugin: str, result: object) -> frozenset[str] | None:
    """A `changes` hook's answer as names in CHANGES (replies dropped); a misspelt name is an error."""
    if result is None:
        return None
    if isinstance(result, (str, bytes)) or not hasattr(result, "__iter__"):
        raise PluginError(f"plugin {plugin}: the changes hook must return a set of names such as "
                          f"{{\"add_header\"}}, not {result!r}")
    names = {str(getattr(item, "value", item)).lower() for item in result}
    for name in sorted(names - CHANGES - REPLIES):
        close = difflib.get_close_matches(name, sorted(CHANGES), 1)
        hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(sorted(CHANGES))}"
        raise PluginError(f"plugin {plugin}: the changes hook declares an unknown change {name!r} ({hint})")
    return frozenset(names & CHANGES)
