"""What an external milter answered, as filterd verdicts and edits.

Replies (Postfix's form: an SMTP reply, "D", "H", "S" or None) become verdicts. Modification requests become
edits on the message as that milter saw it: the MTA's own Received: header, hidden from the milter, still
counts for SMFIR_INSHEADER (index 0 is above it) but not for SMFIR_CHGHEADER occurrences, as in Postfix;
a replaced body is streamed to a file once it outgrows memory.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from filterd.content import Header
from filterd.edits import apply
from filterd.milter.client.dialogue import DISCARD, HOLD, SHUTDOWN
from filterd.milter.protocol import responses as r
from filterd.milter.protocol.packets import Packet
from filterd.model import Message
from filterd.verdict import (AddHeader, AddRecipient, ChangeHeader, ChangeSender, DeleteRecipient, Edit,
                             InsertHeader, ReplaceBody, Verdict)

HOLD_TEXT = "milter triggers HOLD action"
DISCARD_TEXT = "milter triggers DISCARD action"
SHUTDOWN_REPLY = "421 4.7.0 Server closing connection"
BODY_MEMORY = 262144
"""Bytes of a replaced body kept in memory before it goes to a temporary file."""


def verdict_of(reply: str | None) -> Verdict:
    """The verdict for a milter reply; a multi-line SMTP reply keeps its first code and joins its texts."""
    if reply is None:
        return Verdict()
    if reply == DISCARD:
        return Verdict.discard(DISCARD_TEXT)
    if reply == HOLD:
        return Verdict.hold(HOLD_TEXT)
    if reply == SHUTDOWN:
        return Verdict.reject(SHUTDOWN_REPLY)
    lines = [line[4:].partition(" ") for line in reply.split("\r\n")]
    text = " ".join(rest for _, _, rest in lines if rest)
    return Verdict.reject(f"{reply[:3]} {lines[0][0]} {text}".strip())


def address(text: str) -> str:
    """An envelope address as a milter gives it, without angle brackets."""
    text = text.strip()
    return text[1:-1] if text[:1] == "<" and text[-1:] == ">" else text


class BodySink:
    """SMFIR_REPLBODY chunks made into a body with CRLF line ends, in memory or, when large, in a file."""

    def __init__(self, directory: str | None = None):
        self.directory = directory
        self.out: io.BytesIO | tempfile._TemporaryFileWrapper = io.BytesIO()
        self.path: Path | None = None
        self._tail = b""

    def write(self, chunk: bytes) -> None:
        """One chunk: its complete lines written, a line cut at the chunk's end kept for the next."""
        lines = (self._tail + chunk).split(b"\n")
        self._tail = lines.pop()
        for line in lines:
            self.out.write(line.removesuffix(b"\r") + b"\r\n")
        if self.path is None and self.out.tell() > BODY_MEMORY:
            self._to_file()

    def finish(self) -> ReplaceBody:
        """The replacement; a last line without its line end gets one, as Postfix writes it."""
        if self._tail:
            self.out.write(self._tail.removesuffix(b"\r") + b"\r\n")
            self._tail = b""
        if self.path is None:
            return ReplaceBody(self.out.getvalue())
        self.out.close()
        return ReplaceBody(self.path)

    def _to_file(self) -> None:
        spill = tempfile.NamedTemporaryFile(prefix="filterd-replbody-", dir=self.directory, delete=False)
        spill.write(self.out.getvalue())
        self.out, self.path = spill, Path(spill.name)


class ModificationRequests:
    """One milter's modification requests at end of message, turned into edits in the order they came."""

    def __init__(self, headers: list[Header], hidden: Header | None, leading_space: bool, directory: str | None = None):
        self.headers = list(headers)
        self.hidden = hidden
        self.leading_space = leading_space
        self.directory = directory
        self.edits: list[Edit] = []
        self.body: BodySink | None = None

    def add(self, request: Packet) -> None:
        """One modification request, applied to the headers as the milter now sees them."""
        if isinstance(request, r.ReplaceBody):
            self.body = self.body or BodySink(self.directory)
            self.body.write(request.data)
            return
        edit = self._edit(request)
        if isinstance(edit, AddHeader | InsertHeader | ChangeHeader):
            self.headers = apply(Message(self.headers), [edit]).headers
        self.edits.append(edit)

    def finish(self) -> list[Edit]:
        """Every edit, a body replacement last (Postfix applies it after the header and envelope changes)."""
        if self.body is not None:
            self.edits.append(self.body.finish())
            self.body = None
        return self.edits

    def _edit(self, request: Packet) -> Edit:
        if isinstance(request, r.AddHeader):
            return AddHeader(request.name, self._value(request.value))
        if isinstance(request, r.InsertHeader):
            return InsertHeader(request.name, self._value(request.value), request.index)
        if isinstance(request, r.ChangeHeader):
            value = self._value(request.value) if request.value else ""
            return ChangeHeader(request.name, value, self._occurrence(request.name, max(request.index, 1)))
        if isinstance(request, r.ChangeFrom):
            return ChangeSender(address(request.sender), request.args or "")
        if isinstance(request, r.AddRecipient | r.AddRecipientPar):
            return AddRecipient(address(request.recipient), getattr(request, "args", None) or "")
        assert isinstance(request, r.DeleteRecipient)
        return DeleteRecipient(address(request.recipient))

    def _value(self, value: str) -> str:
        """A header value as filterd keeps it: CRLF between folded lines, the space after the colon made by
        Header.make (a milter that negotiated HDR_LEADSPC brings its own)."""
        if self.leading_space and value[:1] == " ":
            value = value[1:]
        return value.replace("\r\n", "\n").replace("\n", "\r\n")

    def _occurrence(self, name: str, index: int) -> int:
        """The milter's index-th `name` header (not counting the hidden one) as an occurrence among all headers."""
        seen = 0
        for position, header in enumerate(self.headers):
            if header.name.lower() != name.lower():
                continue
            seen += 1
            if header is not self.hidden and seen - self._hidden_before(position, name) == index:
                return seen
        return index + self._hidden_before(len(self.headers), name)

    def _hidden_before(self, position: int, name: str) -> int:
        if self.hidden is None or self.hidden.name.lower() != name.lower():
            return 0
        return int(any(header is self.hidden for header in self.headers[:position]))
