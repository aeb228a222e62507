"""Benchmark plugin for bench/milter: add one header without reading the message, as the pymilter anchor does,
and declare it, as the anchor declares ADDHDRS: Postfix then sends end of message alone to both."""

from filterd import Verdict, hookimpl


@hookimpl
def changes():
    """A header added, nothing else: no REDIRECT, so no recipient needs to be known."""
    return {"add_header"}


@hookimpl
def end_of_message():
    """Mark the message as seen; taking no `message` argument lets the milter skip headers and body."""
    return Verdict.add_header("X-Filterd-Bench", "yes")
