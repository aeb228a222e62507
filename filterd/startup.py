"""Start-up: read main.cf, load the plugins it names, check every parameter against what is declared."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from filterd.config import Config, Parameter, parse_main_cf
from filterd.fatal import FatalError
from filterd.parameters import CORE_PARAMETERS, validate_values
from filterd.registry import PluginError, PluginNameError, Plugins

DEFAULT_CONFIG = "/etc/filterd/main.cf"


@dataclass
class Loaded:
    """The configuration in force and the plugins it registered, ready for any front end."""

    config: Config
    plugins: Plugins
    path: str


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


def core_parameters(path: str) -> dict[str, Parameter]:
    """filterd's own parameters, config_directory being the directory of the main.cf in use."""
    known = dict(CORE_PARAMETERS)
    known["config_directory"] = replace(known["config_directory"], default=os.path.dirname(os.path.abspath(path)))
    return known


def plugin_parameters(plugins: Plugins) -> dict[str, Parameter]:
    declared: dict[str, Parameter] = {}
    for name, result in plugins.call_all("parameters"):
        items = result.items() if isinstance(result, dict) else ((p.name, p) for p in result or ())
        for key, value in items:
            if key in CORE_PARAMETERS or key in declared:
                raise PluginError(f"plugin {name}: parameter {key} is already declared")
            declared[key] = value if isinstance(value, Parameter) else Parameter(key, str(value))
    return declared


def load_plugins(early: Config, extra: dict[str, object]) -> Plugins:
    """The plugins filterd_plugins names, read before plugin parameters are known (`early` allows any name)."""
    names = early.list("filterd_plugins")
    try:
        return Plugins.load(names + [n for n in extra if n not in names], extra,
                            early.get("filterd_plugin_directory"))
    except PluginNameError as exc:
        raise early.error("filterd_plugins", str(exc)) from exc


def load(path: str | None = None, overrides: dict[str, str] | None = None,
         extra_plugins: dict[str, object] | None = None) -> Loaded:
    """Load and check everything; a ConfigError or FatalError names what is wrong and where."""
    path = config_path(path)
    entries = parse_main_cf(read_main_cf(path), path)
    core = core_parameters(path)
    lenient = dict(core)
    lenient.update({name: Parameter(name, "") for name, _, _ in entries if name not in lenient})
    for name in overrides or {}:
        lenient.setdefault(name, Parameter(name, ""))
    plugins = load_plugins(Config(entries, lenient, path, overrides), dict(extra_plugins or {}))
    known = dict(core)
    known.update(plugin_parameters(plugins))
    config = Config(entries, known, path, overrides)
    validate_values(config)
    plugins.call_all("configure", config=config)
    plugins.declare()
    return Loaded(config, plugins, path)
