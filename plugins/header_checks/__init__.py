"""Postfix's built-in content inspection, header_checks(5), as a filterd plugin.

The header_checks, mime_header_checks, nested_header_checks and body_checks tables apply as
Postfix's cleanup(8) applies them: primary headers one logical header at a time; MIME headers,
the headers of attached messages and body lines (boundaries included) found by following the MIME
structure (header_checks.mime_state); body lines in line_length_limit pieces, the first
body_checks_size_limit bytes of each body segment. The chain alone carries it, so it works in
every front end. List it first in filterd_plugins: cleanup inspects before any milter does.

The tables and limits are read once per chain by `configure`, whose answer (Checks) filterd gives back to
every hook as `settings`; each message's state lives in its envelope's notes. Nothing is kept in the module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from filterd import ContentVerdict, InBody, MimeError, ParameterError, TableError, Verdict, hookimpl, open_tables

from .body_lines import BodyLines
from .content_actions import BODY, HEADER, Inspection, act
from .mime_state import (BODY_CHECKS, HEADER_CHECKS, MIME_ERROR, MIME_HEADER_CHECKS,
                                        NESTED_HEADER_CHECKS, NESTING_ERROR, MimeState, Piece)

TABLES = (HEADER_CHECKS, MIME_HEADER_CHECKS, NESTED_HEADER_CHECKS, BODY_CHECKS)
PARAMETERS = {
    HEADER_CHECKS: "", MIME_HEADER_CHECKS: "$header_checks", NESTED_HEADER_CHECKS: "$header_checks",
    BODY_CHECKS: "", "body_checks_size_limit": "51200", "disable_mime_input_processing": "no",
    "mime_nesting_limit": "100", "mime_boundary_length_limit": "2048",
}
NOTE = "header_checks"


@dataclass
class Checks:
    """The tables and limits in force, read once per chain at start-up and shared by its messages."""

    tables: dict[str, list] = field(default_factory=dict)
    size_limit: int = 51200
    line_limit: int = 2048
    header_limit: int = 102400
    disable_mime: bool = False
    nesting_limit: int = 100
    boundary_limit: int = 2048
    lookups: dict[str, tuple] = field(init=False)

    def __post_init__(self):
        """Each parameter's tables as their byte lookups, in order."""
        self.lookups = {name: tuple(table.lookup_bytes for table in tables) for name, tables in self.tables.items()}

    def lookup(self, table: str, key: bytes) -> str | None:
        """The first result from the tables of a parameter, in order, as Postfix's maps_find.

        The key is the bytes up to any NUL, as cleanup passes it: not refused when not UTF-8.
        """
        if b"\0" in key:
            key = key.split(b"\0", 1)[0]
            if not key:
                return None
        for lookup in self.lookups[table]:
            result = lookup(key)
            if result is not None:
                return result.decode("utf-8", "surrogateescape")
        return None

    def new_message(self) -> MessageState:
        """A message's inspection state; MIME nesting errors count when any header table is set, as in Postfix."""
        mime = MimeState(self.disable_mime, self.nesting_limit, self.boundary_limit, self.header_limit,
                         report_nesting=any(self.tables.get(t) for t in TABLES[:3]))
        return MessageState(self, mime, Inspection(), BodyLines(self.line_limit))


@dataclass
class MessageState:
    """One message's inspection: the checks in force, its MIME structure, its body lines, what earlier actions
    decided."""

    checks: Checks
    mime: MimeState
    inspection: Inspection
    lines: BodyLines


@hookimpl
def parameters():
    """Postfix's names and defaults."""
    return dict(PARAMETERS)


@hookimpl
def configure(config) -> Checks:
    """Open the tables now, as Postfix's cleanup does: a rule Postfix skips is skipped with its warning; a table
    that cannot be opened stops filterd, naming the parameter."""
    tables = {}
    for name in TABLES:
        try:
            tables[name] = open_tables(config.get(name))
        except TableError as exc:
            raise ParameterError(name, str(exc)) from None
    return Checks(tables, config.int("body_checks_size_limit"), config.int("line_length_limit"),
                  config.int("header_size_limit"), config.bool("disable_mime_input_processing"),
                  config.int("mime_nesting_limit"), config.int("mime_boundary_length_limit"))


def _state(envelope, checks: Checks) -> MessageState:
    state = envelope.notes.get(NOTE)
    if state is None:
        state = envelope.notes[NOTE] = checks.new_message()
    return state


def table_verdict(state: MessageState, table: str, text: bytes) -> Verdict | None:
    """What `table` says about `text`, as cleanup acts on it; None when nothing applies."""
    checks, inspection = state.checks, state.inspection
    if not (inspection.active and text and checks.lookups.get(table)):
        return None
    result = checks.lookup(table, text)
    if result is None:
        return None
    return act(result, BODY if table == BODY_CHECKS else HEADER, table, inspection)


def inspect(state: MessageState, piece: Piece, current: int | None = None) -> Verdict | None:
    """The verdict of the piece's table on it, None when nothing applies; `current` is the number of
    the body line at hand (None when there is none)."""
    if piece.table == MIME_ERROR:
        return ContentVerdict.of(Verdict.info(NESTING_ERROR), MimeError(piece.text.decode("utf-8", "surrogateescape")))
    if piece.table == BODY_CHECKS and 0 < state.checks.size_limit <= piece.offset:
        return None
    verdict = table_verdict(state, piece.table, piece.text)
    if verdict is None or piece.first is None:
        return verdict
    text = piece.text.decode("utf-8", "surrogateescape")
    return ContentVerdict.of(verdict, InBody(piece.first, piece.last, text, piece.table != BODY_CHECKS, current))


def verdict_for(state: MessageState, pieces: list[Piece], current: int | None = None) -> Verdict | None:
    """One verdict for several pieces: the last (or first final) one, carrying those before it."""
    found = []
    for piece in pieces:
        verdict = inspect(state, piece, current)
        if verdict is None:
            continue
        found.append(verdict)
        if verdict.final:
            break
    if len(found) < 2:
        return found[0] if found else None
    last = found[-1]
    return ContentVerdict.of(last, getattr(last, "about", None), tuple(found[:-1]))


@hookimpl
def header(envelope, header, settings: Checks):
    """A primary header: header_checks, or mime_header_checks for the MIME ones."""
    state = _state(envelope, settings)
    pieces = state.mime.primary_header(header.raw.rstrip(b"\r\n").replace(b"\r\n", b"\n"))
    return inspect(state, pieces[0]) if len(pieces) == 1 else verdict_for(state, pieces)


@hookimpl
def end_of_headers(envelope, settings: Checks):
    """The empty line after the primary headers: the body, or an attached message, begins."""
    _state(envelope, settings).mime.end_of_primary()


@hookimpl
def body(envelope, message, line, settings: Checks):
    """A body line (or piece): MIME part and attached-message headers, boundaries, body lines."""
    state = envelope.notes.get(NOTE) or _state(envelope, settings)
    current = state.lines.count
    records = state.lines.records(line, message)
    if len(records) == 1 and records[0][0] is line:
        offset = state.mime.body_line(line)
        if offset is not None:
            return None if 0 < settings.size_limit <= offset else table_verdict(state, BODY_CHECKS, line)
    pieces = [piece for record in records for piece in state.mime.record(*record)]
    if len(pieces) == 1:
        return inspect(state, pieces[0], current)
    return verdict_for(state, pieces, current) if pieces else None


@hookimpl
def end_of_message(envelope):
    """A header still open at the end, and Postfix's MIME nesting limit."""
    state = envelope.notes.get(NOTE)
    if state is None:
        return None
    verdict = verdict_for(state, state.mime.finish())
    if state.mime.nesting_error and (verdict is None or not verdict.final):
        refusal = Verdict.reject(f"5.6.0 {NESTING_ERROR}")
        return ContentVerdict.of(refusal, MimeError(""), (verdict,) if verdict else ())
    return verdict
