"""The policy delegation protocol without I/O: a request is `name=value` lines ended by an empty line, the reply
one `action=...` line and an empty line (SMTPD_POLICY_README).

`RecordReader` is fed whatever the socket gave and hands back each complete record, checked strictly: a line
without '=' or with an empty name, a line longer than MAX_LINE, a record longer than MAX_RECORD with no empty
line yet, a NUL, or bytes that are not UTF-8 raise ProtocolError, after which the connection is closed without
a reply, as the README asks of a server "in case of trouble".
"""

from __future__ import annotations

MAX_LINE = 2048
"""The longest attribute line accepted, Postfix's line_length_limit."""

MAX_RECORD = 102400
"""The most bytes of one record: Postfix sends some twenty short attributes."""

REQUEST = "smtpd_access_policy"
"""The one request type Postfix's smtpd sends."""

PROTOCOL_STATES = ("CONNECT", "EHLO", "HELO", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE", "VRFY", "ETRN")

REQUEST_ATTRIBUTES = (
    "request", "protocol_state", "protocol_name", "client_address", "client_name", "client_port",
    "reverse_client_name", "server_address", "server_port", "helo_name", "sender", "recipient", "recipient_count",
    "queue_id", "instance", "size", "etrn_domain", "stress", "sasl_method", "sasl_username", "sasl_sender",
    "ccert_subject", "ccert_issuer", "ccert_fingerprint", "ccert_pubkey_fingerprint", "encryption_protocol",
    "encryption_cipher", "encryption_keysize", "policy_context")
"""The attributes Postfix 3.7's smtpd sends, in its order (3.8 adds compatibility_level and mail_version)."""

Record = dict[str, str]


class ProtocolError(Exception):
    """The peer broke the protocol; the text is the warning to log before closing the connection."""


def encode(record: Record) -> bytes:
    """One record on the wire; a name with '=' or a NUL or newline anywhere is the caller's mistake."""
    lines = []
    for name, value in record.items():
        if not name or "=" in name or _unsafe(name) or _unsafe(value):
            raise ValueError(f"attribute {name!r}={value!r} cannot be sent")
        lines.append(f"{name}={value}\n")
    return "".join(lines).encode() + b"\n"


def _unsafe(text: str) -> bool:
    return "\n" in text or "\0" in text


def encode_reply(action: str) -> bytes:
    """The server's answer: `action=...` and the empty line; newlines in the action become spaces."""
    return encode({"action": " ".join(action.replace("\0", " ").split("\n"))})


def action_of(record: Record) -> str:
    """The action of a server's reply; a reply without one is a broken server."""
    action = record.get("action")
    if action is None:
        raise ProtocolError("reply without an action attribute")
    return action


class RecordReader:
    """Sans-IO record framing with partial reads: feed bytes, get every record now complete, in order."""

    def __init__(self, max_record: int = MAX_RECORD, max_line: int = MAX_LINE):
        self.max_record = max_record
        self.max_line = max_line
        self._pending = b""

    @property
    def pending(self) -> int:
        """Bytes of a record not yet ended."""
        return len(self._pending)

    def feed(self, data: bytes) -> list[Record]:
        buffer = self._pending + data if self._pending else data
        records, start = [], 0
        while (end := _record_end(buffer, start)) >= 0:
            records.append(self._record(buffer[start:end]))
            start = end + 1
        self._pending = buffer[start:]
        self._check_pending()
        return records

    def _check_pending(self) -> None:
        if len(self._pending) > self.max_record:
            raise ProtocolError(f"request longer than {self.max_record} bytes without an empty line")
        last = self._pending.rpartition(b"\n")[2]
        if len(last) > self.max_line:
            raise ProtocolError(f"attribute line longer than {self.max_line} bytes")

    def _record(self, text: bytes) -> Record:
        record: Record = {}
        for line in text.split(b"\n")[:-1]:
            name, value = self._attribute(line)
            record[name] = value
        return record

    def _attribute(self, line: bytes) -> tuple[str, str]:
        if len(line) > self.max_line:
            raise ProtocolError(f"attribute line longer than {self.max_line} bytes")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(f"attribute line is not UTF-8: {_shown(line)}") from None
        name, sep, value = text.removesuffix("\r").partition("=")
        if not sep or not name or "\0" in text:
            raise ProtocolError(f"bad attribute line: {_shown(line)}")
        return name, value


def _record_end(buffer: bytes, start: int) -> int:
    """Where the record from `start` ends: the newline of its empty line (LF or CRLF), or -1."""
    while True:
        at = buffer.find(b"\n", start)
        if at < 0:
            return -1
        if at == start or (at == start + 1 and buffer[start] == 13):
            return at
        start = at + 1


def _shown(line: bytes) -> str:
    """A bad line as a log shows it: printable, cut short."""
    text = line[:100].decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else "?" for c in text) + ("..." if len(line) > 100 else "")


NUMERIC = ("recipient_count", "size", "encryption_keysize", "client_port", "server_port")
"""Attributes that are a decimal number or empty (SMTPD_POLICY_README: "name=" or "name=0" when unavailable)."""


def check_request(record: Record) -> Record:
    """A request as Postfix's smtpd sends it, or ProtocolError: the request type, the protocol state, the numbers.
    Attributes filterd does not know are left alone, as the README asks."""
    kind = record.get("request")
    if kind is None:
        raise ProtocolError("request without a request attribute")
    if kind != REQUEST:
        raise ProtocolError(f"unrecognized request type: {_shown(kind.encode())}")
    for name in NUMERIC:
        value = record.get(name, "")
        if value and not (value.isascii() and value.isdigit()):
            raise ProtocolError(f"bad {name} attribute: {_shown(value.encode())}")
    return record
