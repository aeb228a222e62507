"""`postconf`-compatible display of parameters, so Postfix habits and scripts carry over."""
from __future__ import annotations

import getopt
import sys

from .config import Config

USAGE = "usage: postconf [-d | -n] [-h] [-x] [name...]"


def _show(value: str) -> str:
    """Postfix prints values with whitespace runs collapsed to single spaces."""
    return " ".join(value.split())


def postconf_main(argv: list[str], config: Config, out, err=None) -> int:
    """Print parameters like postconf(1); argv excludes the program name. Returns the exit status."""
    err = err if err is not None else sys.stderr
    try:
        opts, names = getopt.getopt(argv, "dhnx")
    except getopt.GetoptError as exc:
        err.write(f"postconf: invalid option -- '{exc.opt}'\npostconf: fatal: {USAGE}\n")
        return 1
    flags = {opt for opt, _ in opts}
    if {"-d", "-n"} <= flags:
        err.write("postconf: fatal: specify one of -d -n\n")
        return 1
    source = Config([], config.known(), config.filename) if "-d" in flags else config
    known = config.known()
    if names:
        selected = []
        for name in names:
            if name in known:
                selected.append(name)
            else:
                err.write(f"postconf: warning: {name}: unknown parameter\n")
    else:
        selected = sorted(known)
    if "-n" in flags:
        set_names = config.non_default()
        selected = [name for name in selected if name in set_names]
    for name in selected:
        value = _show(source.get(name) if "-x" in flags else source.raw(name))
        if "-h" in flags:
            out.write(value + "\n")
        else:
            out.write(f"{name} = {value}\n" if value else f"{name} =\n")
    return 0
