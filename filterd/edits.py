"""Applying edits to a message once the chain is done: header changes by position, body replacement."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from filterd.model import Header, Message, encode
from filterd.verdict import AddHeader, ChangeHeader, DeleteHeader, Edit, InsertHeader, ReplaceBody


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
