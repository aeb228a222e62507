"""Applying edits to a message once the chain is done: header changes by position, body replacement."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from filterd.content import Header, encode
from filterd.model import Message
from filterd.verdict import AddHeader, ChangeHeader, DeleteHeader, Edit, InsertHeader, ReplaceBody, Verdict


@dataclass(frozen=True)
class Before:
    """PREPEND: a header line before `target` (at the top when target is None)."""

    target: Header | None
    text: str


@dataclass(frozen=True)
class Replace:
    """REPLACE: `target` replaced by a header line."""

    target: Header
    text: str


@dataclass(frozen=True)
class Remove:
    """IGNORE / STRIP: `target` deleted."""

    target: Header


@dataclass(frozen=True)
class LineEdit:
    """body_checks on body line `index` (0-based): REPLACE it (`text`), IGNORE it (text None),
    or PREPEND a line before it (`before`)."""

    index: int
    text: bytes | None = b""
    before: bytes | None = None


@dataclass(frozen=True)
class InBody:
    """Part of the body a verdict is about: a header inside it (a MIME part's or an attached message's)
    on body lines first..last, or a record of body line `first` (the line, or a piece of a long one).
    PREPEND, REPLACE, IGNORE and STRIP act on those lines; the log names `text`. The line numbers are
    the plugin's own count; `current`, its number for the body line at hand, maps them onto the core's."""

    first: int
    last: int
    text: str
    header: bool = True
    current: int | None = None

    def line_edits(self, action: str, text: bytes, at_hand: int | None) -> list[LineEdit]:
        """The LineEdits that PREPEND, REPLACE, IGNORE or STRIP amount to; `at_hand` is the core's
        number of the current body line (None at the end of the message)."""
        shift = at_hand - self.current if at_hand is not None and self.current is not None else 0
        first, last = self.first + shift, self.last + shift
        if action == "PREPEND":
            return [LineEdit(first, before=text)]
        rest = [LineEdit(index, None) for index in range(first + 1, last + 1)]
        return ([LineEdit(first, text)] if action == "REPLACE" else [LineEdit(first, None)]) + rest


@dataclass(frozen=True)
class MimeError:
    """A MIME error a verdict reports as Postfix does: the log names the error (the verdict's text) and
    the header that caused it; without a header, the rejection it leads to, which logs nothing more."""

    text: str


@dataclass(frozen=True)
class ContentVerdict(Verdict):
    """A verdict about content that the hook's own subject does not name (`about`: a header inside the
    body, a piece of a long line, a MIME error), carrying the verdicts on earlier pieces of the same
    call, which the core folds in and logs first."""

    about: InBody | MimeError | None = None
    earlier: tuple[Verdict, ...] = ()

    @classmethod
    def of(cls, verdict: Verdict, about: InBody | MimeError | None = None,
           earlier: tuple[Verdict, ...] = ()) -> ContentVerdict:
        """`verdict` with what it is about and the verdicts that came before it."""
        return cls(verdict.action, verdict.text, verdict.code, verdict.dsn, verdict.edits, verdict.symbols,
                   verdict.auth_results, verdict.logged, about, earlier)


AnyEdit = Edit | Before | Replace | Remove | LineEdit


def _line(text: str) -> Header:
    return Header(encode(text.rstrip("\r\n")) + b"\r\n")


def _index(headers: list[Header], target: Header | None) -> int | None:
    for i, header in enumerate(headers):
        if header is target:
            return i
    return None


def _nth(headers: list[Header], name: str, occurrence: int) -> int | None:
    seen = 0
    for i, header in enumerate(headers):
        if header.name.lower() == name.lower():
            seen += 1
            if seen == occurrence:
                return i
    return None


def _apply_one(headers: list[Header], edit: AnyEdit) -> None:
    if isinstance(edit, AddHeader):
        headers.append(Header.make(edit.name, edit.value))
    elif isinstance(edit, InsertHeader):
        headers.insert(max(0, min(edit.index, len(headers))), Header.make(edit.name, edit.value))
    elif isinstance(edit, ChangeHeader | DeleteHeader):
        i = _nth(headers, edit.name, edit.occurrence)
        if i is None:
            if isinstance(edit, ChangeHeader) and edit.value:
                headers.append(Header.make(edit.name, edit.value))
        elif isinstance(edit, DeleteHeader) or not edit.value:
            del headers[i]
        else:
            headers[i] = Header.make(edit.name, edit.value)
    elif isinstance(edit, Before):
        i = _index(headers, edit.target) if edit.target is not None else 0
        headers.insert(i if i is not None else 0, _line(edit.text))
    elif isinstance(edit, Replace):
        i = _index(headers, edit.target)
        if i is not None:
            headers[i] = _line(edit.text)
    elif isinstance(edit, Remove):
        i = _index(headers, edit.target)
        if i is not None:
            del headers[i]


def apply(message: Message, edits: list[AnyEdit]) -> Message:
    """A new Message with the edits applied in order; the body stays where it is unless rewritten."""
    headers = list(message.headers)
    body = None
    line_edits: dict[int, list[LineEdit]] = {}
    for edit in edits:
        if isinstance(edit, ReplaceBody):
            body = edit.body
        elif isinstance(edit, LineEdit):
            line_edits.setdefault(edit.index, []).append(edit)
        else:
            _apply_one(headers, edit)
    if body is None and line_edits:
        return Message(headers, _edited_body(message, line_edits), 0)
    if body is None:
        return Message(headers, message._body, message._body_offset)
    if isinstance(body, Path):
        return Message(headers, open(body, "rb"), 0)
    if not isinstance(body, bytes):
        return Message(headers, body, 0)
    return Message(headers, io.BytesIO(_crlf(body)), 0)


def _crlf(data: bytes) -> bytes:
    """Body replacement text with every line ending made CRLF."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


def _edited_body(message: Message, line_edits: dict[int, list[LineEdit]]) -> tempfile.SpooledTemporaryFile:
    """The body with body_checks' line edits applied, streamed into a new spool."""
    out = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY)
    for index, line in enumerate(message.body_lines()):
        keep = True
        for edit in line_edits.get(index, ()):
            if edit.before is not None:
                out.write(edit.before.rstrip(b"\r\n") + b"\r\n")
            elif edit.text is None:
                keep = False
            else:
                line, keep = edit.text.rstrip(b"\r\n") + b"\r\n", True
        if keep:
            out.write(line)
    out.seek(0)
    return out


_SPOOL_MEMORY = 262144
