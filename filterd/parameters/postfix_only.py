"""The names Postfix 3.7 knows (its `postconf -d`, with Debian's master.cf services). One that filterd does not
implement may stand in main.cf, as in a Postfix main.cf that filterd is pointed at, and is ignored with a warning
naming its line; any other unknown name stays an error."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from filterd.config import Parameter

DOC = "A Postfix parameter that filterd does not implement: accepted in main.cf and ignored, with a warning."


@cache
def postfix_names() -> frozenset[str]:
    return frozenset(files("filterd.parameters").joinpath("postfix_names.txt").read_text().split())


def unimplemented(names: list[str], known: dict[str, Parameter]) -> dict[str, Parameter]:
    """Of the names main.cf and -o set, the Postfix parameters filterd does not know, each as a plain string."""
    return {name: Parameter(name, "", "str", DOC) for name in names if name not in known and name in postfix_names()}
