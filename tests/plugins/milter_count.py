"""Counts what one transaction saw (recipients, headers, body lines) in envelope notes and reports it in
X-Filterd-Seen at end of message: a count that grows from message to message shows leaked state."""

from filterd import Verdict, hookimpl


@hookimpl
def header(envelope):
    envelope.notes["headers"] = envelope.notes.get("headers", 0) + 1


@hookimpl
def body(envelope):
    envelope.notes["lines"] = envelope.notes.get("lines", 0) + 1


@hookimpl
def end_of_message(envelope):
    notes = envelope.notes
    seen = f"rcpts={len(envelope.recipients)} headers={notes.get('headers', 0)} lines={notes.get('lines', 0)}"
    return Verdict.add_header("X-Filterd-Seen", seen)
