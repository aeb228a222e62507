"""`filterd postconf`: show and edit main.cf as Postfix's postconf(1) does, so habits and scripts carry over.

Showing is lenient as Postfix's is: a main.cf entry that start-up would refuse as unknown is left out with
Postfix's "unused parameter" warning, and values are shown as written, unchecked; a Postfix parameter filterd does
not implement is shown as Postfix shows it (its default Postfix's) when main.cf sets it or it is asked for by name.
Editing warns of a name filterd does not know, since filterd, unlike Postfix, has no user-defined parameters and
would not start.
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import sys
from typing import IO

from filterd.config import Config, ConfigError, Parameter, parse_main_cf
from filterd.loading import DEFAULT_CONFIG, command_line, config_path, load_plugins, plugin_parameters
from filterd.parameters import CORE_PARAMETERS
from filterd.parameters.postfix_only import ignored, unimplemented
from filterd.postconf.edit_file import EditFileError, edit_file
from filterd.postconf.maincf_edit import SET, EditError, edit_main_cf, parse_requests, split_nameval
from filterd.postconf.options import Options, UsageError, help_parser, parse_options
from filterd.registry import PluginError


def _show(value: str) -> str:
    """Postfix prints values with whitespace runs collapsed to single spaces."""
    return " ".join(value.split())


def show(options: Options, config: Config, out: IO[str], err: IO[str]) -> None:
    """Print the parameters `options` select: all known, sorted, or the names given, in their order."""
    known = config.known()
    source = Config([], known, config.filename) if "d" in options.flags else config
    names = options.names or sorted(known)
    for name in names:
        if name not in known:
            err.write(f"postconf: warning: {name}: unknown parameter\n")
    names = [name for name in names if name in known]
    if "n" in options.flags:
        set_names = config.non_default()
        names = [name for name in names if name in set_names]
    for name in names:
        value = _show(source.get(name) if "x" in options.flags else source.raw(name))
        if "h" in options.flags:
            out.write(value + "\n")
        elif "H" in options.flags:
            out.write(name + "\n")
        else:
            out.write(f"{name} = {value}\n" if value else f"{name} =\n")


def postconf_main(argv: list[str], config: Config, out: IO[str], err: IO[str] | None = None) -> int:
    """Show parameters of a configuration already loaded, as postconf(1); returns the exit status."""
    err = err if err is not None else sys.stderr
    try:
        show(parse_options(argv), config, out, err)
    except UsageError as error:
        err.writelines(f"postconf: {line}\n" for line in error.lines)
        return 1
    return 0


def read_main_cf(path: str) -> str:
    """main.cf's text; a missing default main.cf is an empty one, as at start-up."""
    if path == DEFAULT_CONFIG and not os.path.exists(path):
        return ""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as source:
            return source.read()
    except OSError as error:
        raise EditFileError(f"open {path}: {error.strerror}") from None


def _unchecked(known: dict[str, Parameter]) -> dict[str, Parameter]:
    """The same parameters as plain text, so that showing a value never fails on its kind."""
    return {name: dataclasses.replace(param, kind="str") for name, param in known.items()}


def known_parameters(entries: list[tuple[str, str, int]], path: str, overrides: dict[str, str],
                     asked: tuple[str, ...] = ()) -> dict[str, Parameter]:
    """filterd's parameters and those of the plugins that filterd_plugins names, as start-up knows them, and the
    Postfix parameters filterd does not implement that main.cf or -o set or that are `asked` about."""
    settings = command_line(path, entries, overrides)
    lenient = _unchecked(CORE_PARAMETERS)
    for name in [entry[0] for entry in entries] + list(settings):
        lenient.setdefault(name, Parameter(name, ""))
    known = dict(CORE_PARAMETERS)
    early = Config(entries, lenient, path, settings)
    known.update(plugin_parameters(load_plugins(early, {}), early))
    known.update(unimplemented([entry[0] for entry in entries] + list(settings) + list(asked), known))
    return known


def load(path: str, overrides: dict[str, str], asked: tuple[str, ...] = ()) -> tuple[Config, dict[str, str]]:
    """The configuration in force for showing, and the settings of unknown names, left out of it."""
    entries = parse_main_cf(read_main_cf(path), path)
    known = known_parameters(entries, path, overrides, asked)
    unused = {name: value for name, value, _ in entries if name not in known}
    unused.update({name: value for name, value in overrides.items() if name not in known})
    settings = command_line(path, entries, overrides)
    config = Config([entry for entry in entries if entry[0] in known], _unchecked(known), path,
                    {name: value for name, value in settings.items() if name in known})
    return config, unused


def _overrides(settings: list[str]) -> dict[str, str]:
    """postconf's own -o name=value settings, refused in Postfix's words when one has no "="."""
    result = {}
    for setting in settings:
        try:
            name, value = split_nameval(setting)
        except EditError as error:
            raise UsageError(f"fatal: invalid parameter override: {setting}: {error}") from None
        result[name] = value
    return result


def _display(path: str, options: Options, overrides: dict[str, str], out: IO[str], err: IO[str]) -> None:
    """Show parameters, then warn of main.cf's unknown names as Postfix does, after the output."""
    config, unused = load(path, overrides, tuple(options.names))
    show(options, config, out, err)
    out.flush()
    if "d" not in options.flags:
        for name, value in unused.items():
            err.write(f"postconf: warning: {path}: unused parameter: {name}={value}\n")


def _warn_unknown(text: str, names: list[str], path: str, err: IO[str]) -> None:
    """Postfix sets any name; filterd sets it too but warns of one that start-up would refuse (plugins'
    parameters judged by the edited file)."""
    if all(name in CORE_PARAMETERS or ignored(name) for name in names):
        return
    known = known_parameters(parse_main_cf(text, path), path, {})
    for name in names:
        if name not in known and not ignored(name):
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            err.write(f"postconf: warning: {name}: unknown parameter{hint}: filterd will not start with it\n")


def _edit(path: str, options: Options, err: IO[str]) -> None:
    """-e, -X or -#: main.cf read, edited and replaced under the edit lock; nothing changes on a refusal."""
    mode = options.edit_mode
    requests, warnings = parse_requests(mode, options.names)
    err.writelines(f"postconf: warning: {warning}\n" for warning in warnings)

    def apply(text: str) -> str:
        edited, found = edit_main_cf(text, mode, requests, path)
        if mode == SET:
            _warn_unknown(edited, list(requests), path, err)
        err.writelines(f"postconf: warning: {warning}\n" for warning in found)
        return edited

    edit_file(path, apply)


def run(argv: list[str], config: str | None = None, overrides: dict[str, str] | None = None,
        out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """The postconf command: argv without the program name, -c and -o given before it; the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        options = parse_options(argv)
        if options.help:
            out.write(help_parser().format_help())
            return 0
        path = config_path(options.config_dir or config)
        if options.edit_mode:
            _edit(path, options, err)
        else:
            _display(path, options, {**(overrides or {}), **_overrides(options.overrides)}, out, err)
        return 0
    except UsageError as error:
        err.writelines(f"postconf: {line}\n" for line in error.lines)
    except (ConfigError, PluginError, EditError, EditFileError) as error:
        err.write(f"postconf: fatal: {error}\n")
    return 1
