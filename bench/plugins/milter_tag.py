"""Benchmark plugin for bench/milter: add one header without reading the message, as the pymilter anchor does."""

from filterd import Verdict, hookimpl


@hookimpl
def end_of_message():
    """Mark the message as seen; taking no `message` argument lets the milter skip headers and body."""
    return Verdict.add_header("X-Filterd-Bench", "yes")
