"""Start-up: read main.cf, load the plugins it names, check every parameter against what is declared."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from filterd.config import Config, ConfigError, Parameter, parse_main_cf
from filterd.parameters import CORE_PARAMETERS, validate_values
from filterd.registry import PluginError, Plugins

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


def plugin_parameters(plugins: Plugins) -> dict[str, Parameter]:
    declared: dict[str, Parameter] = {}
    for name, result in plugins.call_all("parameters"):
        items = result.items() if isinstance(result, dict) else ((p.name, p) for p in result or ())
        for key, value in items:
            if key in CORE_PARAMETERS or key in declared:
                raise PluginError(f"plugin {name}: parameter {key} is already declared")
            declared[key] = value if isinstance(value, Parameter) else Parameter(key, str(value))
    return declared


def load(path: str | None = None, overrides: dict[str, str] | None = None,
         extra_plugins: dict[str, object] | None = None) -> Loaded:
    """Load and check everything; ConfigError or PluginError name what is wrong and where."""
    path = config_path(path)
    if os.path.exists(path):
        text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    elif path == DEFAULT_CONFIG:
        text = ""
    else:
        raise ConfigError(path, None, "cannot read configuration: no such file")
    entries = parse_main_cf(text, path)
    lenient = dict(CORE_PARAMETERS)
    lenient.update({name: Parameter(name, "") for name, _, _ in entries if name not in lenient})
    for name in overrides or {}:
        lenient.setdefault(name, Parameter(name, ""))
    names = Config(entries, lenient, path, overrides).list("filterd_plugins")
    extra = dict(extra_plugins or {})
    plugins = Plugins.load(names + [n for n in extra if n not in names], extra)
    known = dict(CORE_PARAMETERS)
    known.update(plugin_parameters(plugins))
    config = Config(entries, known, path, overrides)
    validate_values(config)
    plugins.call_all("configure", config=config)
    plugins.declare()
    return Loaded(config, plugins, path)

