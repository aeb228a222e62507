"""Postfix's queue tools on filterd's spool: postqueue, postsuper, postcat, qshape; sendmail for local submission."""

from __future__ import annotations

import argparse
from typing import Callable

TOOLS = ("postqueue", "postsuper", "postcat", "qshape", "sendmail")


def add_parsers(sub, common: argparse.ArgumentParser, func: Callable[[argparse.Namespace], int]) -> None:
    """Add one subcommand per tool; each answers --help alone, as its -h is Postfix's (postcat: header, postsuper:
    hold); sendmail parses its own command line, Sendmail's."""
    from filterd.queue.tools import postcat, postqueue, postsuper, qshape, sendmail

    for module in (postqueue, postsuper, postcat, qshape):
        tool = sub.add_parser(module.NAME, parents=[common], add_help=False, help=module.HELP,
                              description=module.HELP[0].upper() + module.HELP[1:] + ".")
        module.add_arguments(tool)
        tool.add_argument("--help", action="help", help="show this help message and exit")
    sendmail.add_arguments(sub.add_parser(sendmail.NAME, add_help=False, prefix_chars="+", help=sendmail.HELP))
    for name in TOOLS:
        sub.choices[name].set_defaults(func=func)


def run(args: argparse.Namespace, load: Callable[[], object]) -> int:
    """Run the tool named by args.command; `load()` returns the filterd.loading.Loaded configuration."""
    import os
    import sys
    from importlib import import_module

    try:
        return import_module(f"filterd.queue.tools.{args.command}").main(args, load)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
