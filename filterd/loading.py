"""Loading filterd: read main.cf, load the plugins it names, check every parameter against what is declared.

Every command starts here; the assembly then wires what is loaded into running parts."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from filterd.config import Config, ConfigError, Parameter, parse_main_cf
from filterd.fatal import FatalError
from filterd.parameters import CORE_PARAMETERS, validate_values
from filterd.parameters.postfix_only import plugin_missing, unimplemented
from filterd.registry import PluginError, PluginNameError, Plugins

DEFAULT_CONFIG = "/etc/filterd/main.cf"


@dataclass
class Loaded:
    """The configuration in force and the plugins it registered, ready for any front end."""

    config: Config
    plugins: Plugins
    path: str
    modules: frozenset[str] = field(default=frozenset(), compare=False)
    """The modules loading imported that a reload imports afresh (see forget_modules)."""
    unimplemented: tuple[tuple[str, int | None], ...] = ()
    """Postfix parameters main.cf (or -o) sets that filterd ignores, with their lines: warned about at start and
    reload (`ignored_lines`)."""

    def ignored_lines(self) -> list[str]:
        """The warning for each Postfix parameter set that filterd does not implement, in main.cf's order."""
        return [f"{f'{self.path}, line {line}' if line else '-o'}: {name}: Postfix parameter that filterd does not "
                "implement: ignored" for name, line in self.unimplemented]


def config_path(path: str | None) -> str:
    """-c takes a main.cf or the directory holding it, as Postfix's -c takes a directory."""
    path = path or os.environ.get("FILTERD_CONFIG") or DEFAULT_CONFIG
    if os.path.isdir(path):
        path = os.path.join(path, "main.cf")
    return path


def read_main_cf(path: str) -> str:
    """main.cf's text (none at all for a missing default one); else Postfix's `open FILE: reason`."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        if path == DEFAULT_CONFIG:
            return ""
        raise FatalError(f"open {path}: No such file or directory") from None
    except OSError as exc:
        raise FatalError(f"open {path}: {exc.strerror or exc}") from exc


def command_line(path: str, entries: list[tuple[str, str, int]],
                 overrides: dict[str, str] | None) -> dict[str, str]:
    """-o settings, and config_directory set from -c as Postfix sets it from -c or MAIL_CONFIG (main.cf may set it)."""
    settings = dict(overrides or {})
    directory = os.path.dirname(os.path.abspath(path))
    if directory != CORE_PARAMETERS["config_directory"].default and all(e[0] != "config_directory" for e in entries):
        settings.setdefault("config_directory", directory)
    return settings


def early_config(entries: list[tuple[str, str, int]], path: str, settings: dict[str, str]) -> Config:
    """main.cf with any name allowed: enough for filterd_plugins and the plugin directory, read before the
    plugins that declare the other names are loaded."""
    lenient = dict(CORE_PARAMETERS)
    for name in [entry[0] for entry in entries] + list(settings):
        lenient.setdefault(name, Parameter(name, ""))
    return Config(entries, lenient, path, settings)


def plugin_parameters(plugins: Plugins, early: Config | None = None) -> dict[str, Parameter]:
    """What the plugins' `parameters` hooks declare, given main.cf as read so far (`early`, any name allowed)."""
    declared: dict[str, Parameter] = {}
    for name, result in plugins.call_all("parameters", early):
        items = result.items() if isinstance(result, dict) else ((p.name, p) for p in result or ())
        for key, value in items:
            if key in CORE_PARAMETERS or key in declared:
                raise PluginError(f"plugin {name}: parameter {key} is already declared")
            declared[key] = value if isinstance(value, Parameter) else Parameter(key, str(value))
    return declared


RELAY_PLUGINS = ("restrictions",)
"""Built-in plugins that relay mode runs even when filterd_plugins does not name them, first, as Postfix's smtpd
always applies its restrictions: a relay is never open (smtpd_relay_restrictions)."""


def plugin_names(early: Config) -> list[str]:
    """filterd_plugins, after the relay's own plugins when a relay listener is configured and they are not named."""
    names = early.list("filterd_plugins")
    if any(item.partition(":")[0] == "relay" for item in early.list("filterd_listeners")):
        names = [name for name in RELAY_PLUGINS if name not in names] + names
    return names


def load_plugins(early: Config, extra: dict[str, object]) -> Plugins:
    """The plugins filterd_plugins names, read before plugin parameters are known (`early` allows any name)."""
    names = plugin_names(early)
    try:
        return Plugins.load(names + [n for n in extra if n not in names], extra,
                            early.get("filterd_plugin_directory"))
    except PluginNameError as exc:
        raise early.error("filterd_plugins", str(exc)) from exc


def load_main_cf(path: str | None = None, overrides: dict[str, str] | None = None) -> Config:
    """main.cf alone, any name allowed and no plugin loaded: enough for `filterd stop` and `status` to find the
    running filterd when main.cf has since been broken."""
    path = config_path(path)
    entries = parse_main_cf(read_main_cf(path), path)
    return early_config(entries, path, command_line(path, entries, overrides))


def load(path: str | None = None, overrides: dict[str, str] | None = None,
         extra_plugins: dict[str, object] | None = None) -> Loaded:
    """Load and check everything; a ConfigError or FatalError names what is wrong and where."""
    before = set(sys.modules)
    path = config_path(path)
    entries = parse_main_cf(read_main_cf(path), path)
    settings = command_line(path, entries, overrides)
    early = early_config(entries, path, settings)
    plugins = load_plugins(early, dict(extra_plugins or {}))
    known = dict(CORE_PARAMETERS)
    known.update(plugin_parameters(plugins, early))
    ignored = unimplemented([entry[0] for entry in entries] + list(settings), known)
    for name, _, line in entries:
        if name not in known and (missing := plugin_missing(name)):
            raise ConfigError(path, line, missing)
    config = Config(entries, {**known, **ignored}, path, settings)
    validate_values(config)
    plugins.configure(config)
    return Loaded(config, plugins, path, frozenset(_reloadable(set(sys.modules) - before)),
                  tuple((name, config.lineno(name)) for name in ignored))


def _installed_prefixes() -> tuple[str, ...]:
    return tuple({os.path.join(os.path.realpath(p), "") for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


def _reloadable(names: set[str]) -> set[str]:
    """Of the modules a load imported, the plugins' own: not filterd's, nor installed in the venv or the system
    (a reload takes a changed plugin file, not an upgraded package: that needs a restart)."""
    prefixes = _installed_prefixes()
    found = set()
    for name in names:
        if name == "filterd" or name.startswith("filterd."):
            continue
        module = sys.modules.get(name)
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.origin in ("built-in", "frozen"):
            continue
        where = getattr(module, "__file__", None)
        if where is None or not os.path.realpath(where).startswith(prefixes):
            found.add(name)
    return found


def forget_modules(loaded: Loaded) -> None:
    """Drop the plugins' modules from the import cache, so that the next load reads their files again."""
    for name in loaded.modules:
        sys.modules.pop(name, None)
