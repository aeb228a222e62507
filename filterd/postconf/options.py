"""postconf's command line, parsed as Postfix's postconf parses it: getopt(3) clustering (`-nh`), options
before the first name, an implied -e when the first name holds "=", and Postfix's messages and checks for
options that exclude each other."""
from __future__ import annotations

import argparse
import getopt
from dataclasses import dataclass, field

from filterd.postconf.maincf_edit import COMMENT_OUT, REMOVE, SET

OPTION_LETTERS = "c:deHhno:pxX#"
USAGE = ("usage: postconf [-c config_dir] [-d (parameter defaults)] [-e (edit configuration)] [-h (no names)] "
         "[-H (no values)] [-n (non-default parameters)] [-o name=value (override parameter value)] "
         "[-p (main.cf, default)] [-x (expand parameter values)] [-X (exclude)] [-# (comment-out)] [name...]")
# The order in which Postfix names options in its messages, and its groups of options that exclude each other.
NAME_ORDER = "dehHnopxX#"
EXCLUSIVE = ("den#X", "xe#X", "ode#X", "he#XH")
EDIT_MODES = {"e": SET, "X": REMOVE, "#": COMMENT_OUT}


class UsageError(Exception):
    """A command line Postfix's postconf refuses: the lines it prints, each after "postconf: "."""

    def __init__(self, *lines: str):
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass
class Options:
    """What the command line asks for: option letters, -c, -o settings and the names or name=value pairs."""

    flags: set[str] = field(default_factory=set)
    config_dir: str | None = None
    overrides: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    help: bool = False

    @property
    def edit_mode(self) -> str | None:
        """-e, -X or -# when main.cf is to be edited, else None."""
        return next((EDIT_MODES[letter] for letter in EDIT_MODES if letter in self.flags), None)


def _getopt_error(error: getopt.GetoptError) -> UsageError:
    letter = error.opt if len(error.opt) == 1 else "-"
    if "requires argument" in error.msg:
        return UsageError(f"option requires an argument -- '{letter}'", f"fatal: {USAGE}")
    return UsageError(f"invalid option -- '{letter}'", f"fatal: {USAGE}")


def _check(options: Options) -> None:
    """Postfix's checks, in Postfix's order, with its words."""
    for group in EXCLUSIVE:
        clash = [letter for letter in NAME_ORDER if letter in group and letter in options.flags]
        if len(clash) > 1:
            raise UsageError("fatal: specify one of " + " ".join("-" + letter for letter in clash))
    if "e" in options.flags and not options.names:
        raise UsageError("fatal: -e requires name=value argument")
    if options.edit_mode and not options.names:
        raise UsageError("fatal: missing service argument")


def parse_options(argv: list[str]) -> Options:
    """Parse postconf's arguments (without the program name); UsageError says what Postfix would say."""
    try:
        pairs, names = getopt.getopt(argv, OPTION_LETTERS, ["help"])
    except getopt.GetoptError as error:
        raise _getopt_error(error) from None
    options = Options(names=names)
    for flag, value in pairs:
        if flag == "--help":
            options.help = True
            continue
        if flag == "-c":
            options.config_dir = value
        elif flag == "-o":
            options.overrides.append(value)
        options.flags.add(flag[1:])
    if options.help:
        return options
    if names and "=" in names[0]:
        options.flags.add("e")
    _check(options)
    return options


def help_parser() -> argparse.ArgumentParser:
    """The --help screen only: postconf's own -h means "values only", so the options are parsed by getopt."""
    helper = argparse.ArgumentParser(
        prog="filterd postconf", add_help=False,
        usage="%(prog)s [-dhHnpx] [-c config_dir] [-o name=value] [name ...]\n"
              "       %(prog)s [-e] [-c config_dir] name=value ...\n"
              "       %(prog)s -X|-# [-c config_dir] name ...",
        description="Show or edit main.cf parameters, as Postfix's postconf(1).")
    add = helper.add_argument
    add("-c", metavar="config_dir", help="the directory of main.cf, or main.cf itself")
    add("-d", action="store_true", help="show default values instead of the values in force")
    add("-e", action="store_true", help="edit main.cf: set each name=value (implied by a first name=value)")
    add("-h", action="store_true", help='show values without the "name = " label')
    add("-H", action="store_true", help='show names without the " = value"')
    add("-n", action="store_true", help="show only the parameters set in main.cf")
    add("-o", metavar="name=value", help="override a main.cf parameter")
    add("-p", action="store_true", help="show main.cf parameters (the default)")
    add("-x", action="store_true", help="expand $name in values")
    add("-X", action="store_true", help="edit main.cf: remove the named parameters")
    add("-#", action="store_true", help="edit main.cf: comment out the named parameters")
    add("--help", action="store_true", help="show this help message and exit")
    add("name", nargs="*", help="parameters to show (default: all), or name=value settings with -e")
    return helper
