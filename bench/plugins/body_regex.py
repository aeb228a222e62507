"""Benchmark plugin: reject a message when a body line matches a worm signature."""

import re

from filterd import Verdict, hookimpl

WORM = re.compile(rb"I-Worm\.\w+|W32/\w+@mm")


@hookimpl
def body(line):
    """Reject the message on a body line that carries the signature."""
    return Verdict.reject("5.7.1 worm") if WORM.search(line) else None
