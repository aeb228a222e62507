"""Benchmark plugin: add one header to every message."""

from filterd import Verdict, hookimpl


@hookimpl
def end_of_message(message):
    """Mark the message as seen by the benchmark."""
    return Verdict.add_header("X-Filterd-Bench", "yes")
