"""Every `filterd` subcommand answers --help alike: its usage and options on stdout, exit status 0.

The subcommands are taken from the parser itself, so a new one cannot be left out.
"""
from __future__ import annotations

import argparse
import re

import pytest

from filterd import cli


def subcommands() -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(actions) == 1
    return dict(actions[0].choices)


def run_help(capsys, argv) -> tuple[int, str, str]:
    try:
        status = cli.main(argv)
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def test_the_tools_are_all_there():
    assert {"start-fg", "check", "postconf", "postmap", "postqueue", "postsuper", "postcat", "qshape",
            "sendmail", "version"} <= set(subcommands())


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_subcommand_help(capsys, name):
    status, out, err = run_help(capsys, [name, "--help"])
    assert (status, err) == (0, "")
    assert out.startswith(f"usage: filterd {name} ")
    assert "\n\noptions:\n  -" in out
    assert re.search(r"^  (-h, )?--help +show this help message and exit$", out, re.M), out


def test_top_level_help_lists_every_subcommand(capsys):
    status, out, err = run_help(capsys, ["--help"])
    assert (status, err) == (0, "")
    listed = re.findall(r"^    (\S+)", out.split("\ncommands:\n", 1)[1], re.M)
    assert listed == list(subcommands())
