"""BDAT (RFC 3030 CHUNKING) as Postfix's smtpd takes it, without I/O: the command's syntax, the chunk state of a
transaction, the size Postfix counts and its replies.

A transaction's chunks are accepted until BDAT LAST; after an error every further chunk is read and discarded, so
that the client's pipelined chunks never become commands, until BDAT LAST or RSET (smtpd.c: bdat_cmd, skip_bdat).
The bytes of a chunk are the message as-is: no dot-stuffing, no end marker.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

KEYWORD = "CHUNKING"
DISABLED = "521 5.5.1 Error: command not implemented"
BAD_SYNTAX = "521 5.5.4 Syntax: BDAT count [LAST]"
NULL_REQUEST = "551 5.7.1 Null BDAT request"
DISCARDED = "551 5.0.0 Discarded {size} bytes after earlier error"
CHUNK_TOO_BIG = "552 5.3.4 Chunk exceeds message size limit"
CHUNK_OK = "250 2.0.0 Ok: {size} bytes"
MAIL_AFTER_BDAT = "503 5.5.1 Error: MAIL after BDAT"
RCPT_AFTER_BDAT = "503 5.5.1 Error: RCPT after BDAT"
DATA_AFTER_BDAT = "503 5.5.1 Error: DATA after BDAT"
NESTED_MAIL = "503 5.5.1 Error: nested MAIL command"
NEED_MAIL = "503 5.5.1 Error: need MAIL command"
FRAGMENT = 4096
"""Postfix's VSTREAM_BUFSIZE: it reads a chunk in fragments of this size."""
LINE_LIMIT = 2048
"""Postfix's line_length_limit: the size of the records a line is cut into, each counted with two bytes more."""
_MAX_SIZE = 2 ** 63 - 1
"""The largest chunk size off_t holds; Postfix calls a larger count bad syntax."""


@dataclass(frozen=True)
class BdatCommand:
    """`BDAT size [LAST]`."""

    size: int
    last: bool


def parse_bdat(arg: str | None) -> BdatCommand | None:
    """The command's argument as Postfix's smtpd reads it; None when malformed (digits only, LAST in any case)."""
    words = (arg or "").split()
    if not 1 <= len(words) <= 2 or not (words[0].isascii() and words[0].isdigit()):
        return None
    size = int(words[0])
    if size > _MAX_SIZE or (len(words) == 2 and words[1].upper() != "LAST"):
        return None
    return BdatCommand(size, len(words) == 2)


def printable(line: bytes) -> str:
    """A command line as Postfix's printable(..., '?') shows it in a warning."""
    text = line.rstrip(b"\r\n").decode("utf-8", "replace")
    return "".join(c if c.isprintable() and c != "\ufffd" else "?" for c in text)


class State(enum.Enum):
    """Postfix's SMTPD_BDAT_STAT_*: no chunk yet, chunks accepted, chunks skipped after an error."""

    NONE = "none"
    OK = "ok"
    ERROR = "error"


class RecordCounter:
    """The message size as Postfix's smtpd counts it (act_size) from the bytes of the chunks: each line without its
    CRLF (or bare LF), cut into records of LINE_LIMIT bytes, each record two bytes more; the count stops where a
    record would pass the size limit (then `too_big`). Postfix reads a chunk in fragments of FRAGMENT bytes and
    counts each once it is read: what its log lines report is the count at the last fragment read."""

    def __init__(self, size_limit: int = 0, line_limit: int = LINE_LIMIT):
        self.size_limit, self.line_limit = size_limit, line_limit
        self.size = 0
        self.pending = 0
        self.too_big = False
        self._last_cr = False
        self._fragment = 0
        self._counted = (0, 0)

    def feed(self, data: bytes) -> None:
        """Count the bytes of a chunk, cut anywhere."""
        while data:
            part, data = data[:FRAGMENT - self._fragment], data[FRAGMENT - self._fragment:]
            self._lines(part)
            self._fragment += len(part)
            if self._fragment == FRAGMENT:
                self.end_of_chunk()

    def end_of_chunk(self) -> None:
        """A chunk (or a fragment of one) was read whole."""
        self._fragment, self._counted = 0, (self.size, self.pending)

    def _lines(self, data: bytes) -> None:
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            self._add(end - start, data[end - 1] == 13 if end > start else self._last_cr)
            self._record(self.pending - self._last_cr)
            self.pending, self._last_cr, start = 0, False, end + 1
        if start < len(data):
            self._add(len(data) - start, data[-1] == 13)

    def _add(self, length: int, last_cr: bool) -> None:
        """Bytes of a line: each LINE_LIMIT of them is a record (one that ends in CR waits: an LF may follow)."""
        self.pending, self._last_cr = self.pending + length, last_cr
        while self.pending > self.line_limit or (self.pending == self.line_limit and not last_cr):
            self._record(self.line_limit)
            self.pending -= self.line_limit

    def end_of_chunks(self) -> None:
        """BDAT LAST: a last line without its ending is a record too."""
        if self.pending:
            self._record(self.pending)
            self.pending, self._last_cr = 0, False

    def _record(self, length: int) -> None:
        counted = length + 2
        if self.too_big or (self.size_limit and self.size_limit - self.size < counted):
            self.too_big = True
            return
        self.size += counted

    def received(self, replaced_by: str | None = None) -> int:
        """The bytes of Postfix's `lost connection after BDAT (N bytes)`: those counted, the line they left open,
        and those of the fragment being read; for its timeout line, the length of the reply that took the
        fragment's place in its buffer (smtpd.c counts its own 421)."""
        size, pending = self._counted
        return size + pending + (self._fragment if replaced_by is None else len(replaced_by))

    def fits(self, chunk: int) -> bool:
        """Whether a chunk of this size can still be taken (Postfix checks before it reads the chunk)."""
        return not self.size_limit or self.size <= self.size_limit - chunk


class Chunking:
    """One session's BDAT state: the transaction's chunk state, its size so far, and whether Postfix would still
    be in the mail transaction while chunks are skipped (a refusal before the first chunk does not end it)."""

    def __init__(self, size_limit: int = 0):
        self.size_limit = size_limit
        self.state = State.NONE
        self.counter = RecordCounter(size_limit)
        self.receiving = False
        self.in_transaction = False

    @property
    def processing(self) -> bool:
        """Postfix's SMTPD_PROCESSING_BDAT: a chunk was given in this transaction (accepted or not)."""
        return self.state is not State.NONE

    def reset(self) -> None:
        """The transaction ended (RSET, HELO, BDAT LAST, a message refused): the next chunk is a first one."""
        self.state, self.receiving, self.in_transaction = State.NONE, False, False
        self.counter = RecordCounter(self.size_limit)

    def refusal(self, command: BdatCommand) -> str | None:
        """The reply to a chunk refused before its transaction is looked at (null, or after an earlier error)."""
        if command.size == 0 and not command.last:
            return NULL_REQUEST
        if self.state is State.ERROR:
            return DISCARDED.format(size=command.size)
        return None

    def skipped(self, command: BdatCommand, in_transaction: bool) -> None:
        """A chunk was read and discarded: BDAT LAST ends the transaction, any other chunk starts the skipping."""
        if command.last:
            self.reset()
            return
        self.in_transaction = self.in_transaction or in_transaction
        self.state, self.receiving = State.ERROR, False

    def accepted(self) -> None:
        """A chunk is about to be read into the message."""
        self.state, self.receiving = State.OK, True

    def failed(self) -> None:
        """A chunk before LAST made the message fail (too big, a refused bare LF): the transaction is over (its count
        starts again, as Postfix's act_size), the chunks still to come are skipped."""
        self.reset()
        self.state, self.receiving = State.ERROR, True

    def mail_refusal(self, in_transaction: bool) -> str | None:
        """MAIL while chunks are taken or skipped."""
        if not self.processing:
            return None
        return NESTED_MAIL if in_transaction or self.in_transaction else MAIL_AFTER_BDAT

    def rcpt_refusal(self, in_transaction: bool) -> str | None:
        """RCPT while chunks are taken or skipped."""
        if not self.processing:
            return None
        return RCPT_AFTER_BDAT if in_transaction or self.in_transaction else NEED_MAIL

    def data_refusal(self) -> str | None:
        """DATA while chunks are taken or skipped."""
        return DATA_AFTER_BDAT if self.processing else None


def queued_reply(reply: str, queue_id: str, size: int) -> str:
    """The end-of-data reply for BDAT LAST: Postfix's own `queued as` names the size it counted; a reply relayed from
    a next hop (its own queue id) stays as it is."""
    if reply == f"250 2.0.0 Ok: queued as {queue_id}":
        return f"250 2.0.0 Ok: {size} bytes queued as {queue_id}"
    return reply


def pieces(data: bytes) -> list[bytes]:
    """A chunk's bytes as DATA's decoder takes them: cut after each LF."""
    if data.find(b"\n") in (-1, len(data) - 1):
        return [data]
    parts = data.split(b"\n")
    last = parts.pop()
    return [part + b"\n" for part in parts] + ([last] if last else [])
