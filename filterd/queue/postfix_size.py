"""The size of the queue file Postfix's cleanup would write for a message, which message_size_limit bounds: cleanup
sets the limit on itself as a file size limit, so the envelope's records count, and each content line is a record
(a type byte, the length in 7-bit groups, the text; a line longer than line_length_limit several records). A
message a little under the limit is refused by Postfix for its envelope; filterd's relay refuses it too."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from filterd.model import Message, Session
from filterd.queue.queuefile import QueueEnvelope

LINE_LIMIT = 2048
"""line_length_limit: smtpd stores a longer line as records of this many bytes."""
SIZE_RECORD = 97
"""The size record: six numbers of fifteen digits, spaces between."""
MARKERS = 3 * 2
"""The empty records that start the content and the extracted segment and end the file."""
NOTIFY = {"NEVER": 1, "SUCCESS": 2, "FAILURE": 4, "DELAY": 8}
RET = {"FULL": 1, "HDRS": 2}


def record(length: int) -> int:
    """A record's bytes: the type, the length in 7-bit groups, the data."""
    size = length + 2
    while length >= 128:
        length >>= 7
        size += 1
    return size


def line(length: int) -> int:
    """The records of one content line of `length` bytes (without its CRLF)."""
    if length < LINE_LIMIT:
        return record(length)
    full, rest = divmod(length, LINE_LIMIT)
    return full * record(LINE_LIMIT) + record(rest)


def _attributes(pairs: Iterable[tuple[str, object]]) -> int:
    return sum(record(len(f"{name}={value}".encode("utf-8", "surrogateescape"))) for name, value in pairs)


def _text(value: str) -> int:
    return record(len(value.encode("utf-8", "surrogateescape")))


def envelope_size(envelope: QueueEnvelope, session: Session, local: bool) -> int:
    """The records before and after the content, as smtpd sends them and cleanup writes them; `local`: the client
    is one of local_header_rewrite_clients (rewrite_context=local)."""
    real = session.unforwarded()
    seconds, micros = divmod(round(envelope.arrival * 1_000_000), 1_000_000)
    options = [("envelope_id", envelope.envid)] if envelope.envid else []
    options += [("ret_flags", RET[envelope.ret.upper()])] if envelope.ret.upper() in RET else []
    options += [("encoding", envelope.body_type[:4].lower())] if envelope.body_type else []
    options += [(f"sasl_{name}", value) for name, value in (("method", session.sasl_method),
                                                            ("username", session.sasl_username),
                                                            ("sender", session.sasl_sender)) if value]
    size = SIZE_RECORD + MARKERS + _text(f"{seconds} {micros}") + _text(envelope.sender or "")
    size += _text(envelope.filter) if envelope.filter else 0
    size += _attributes([("create_time", seconds), ("log_ident", envelope.queue_id),
                         ("rewrite_context", "local" if local else "remote"), *options, *_client(session, real)])
    return size + sum(_recipient(r.address, r.orig, r.orcpt, r.notify) for r in envelope.recipients) + \
        sum(_recipient(address, "", "", "NEVER") for address in envelope.bcc)


def _client(session: Session, real: Session) -> list[tuple[str, object]]:
    """The client's attributes: as logged (XFORWARD's where it stands in), then the connection's own."""
    helo = [("log_helo_name", session.helo)] if session.helo else []
    real_helo = [("helo_name", real.helo)] if real.helo else []
    return [("log_client_name", session.client_name), ("log_client_address", _rfc_address(session.client_address)),
            ("log_client_port", session.client_port), ("log_message_origin", session.client), *helo,
            ("log_protocol_name", session.protocol), ("client_name", real.client_name),
            ("reverse_client_name", real.reverse_name), ("client_address", real.client_address),
            ("client_port", real.client_port), ("server_address", real.server_address),
            ("server_port", real.server_port), *real_helo, ("protocol_name", real.protocol),
            ("client_address_type", 10 if ":" in real.client_address else 2)]


def _rfc_address(address: str) -> str:
    try:
        return f"IPv6:{address}" if ipaddress.ip_address(address).version == 6 else address
    except ValueError:
        return address


def _recipient(address: str, orig: str, orcpt: str, notify: str) -> int:
    """A recipient's records: its NOTIFY, its ORCPT (made up from the address as given), the address as given and
    as delivered to."""
    given = orig or address
    flags = sum(NOTIFY.get(word.strip().upper(), 0) for word in notify.split(",")) if notify else 0
    notified = [("notify_flags", flags)] if flags else []
    return _attributes([*notified, ("dsn_orig_rcpt", orcpt or f"rfc822;{given}")]) + _text(given) + _text(address)


def content_size(message: Message) -> int:
    """The message's lines as records: the headers, the empty line after them, the body."""
    size = record(0)
    for header in message.headers:
        size += sum(line(len(part)) for part in header.raw.removesuffix(b"\r\n").split(b"\r\n"))
    carry = 0
    for chunk in message.body_chunks():
        parts = chunk.split(b"\n")
        if len(parts) == 1:
            carry += len(chunk)
            continue
        lengths = [carry + len(parts[0]), *map(len, parts[1:-1])]
        size += sum(lengths) + len(lengths) + sum(line(n - 1) - n - 1 for n in lengths if n > 128)
        carry = len(parts[-1])
    return size + (line(carry) if carry else 0)


def exceeds(limit: int, envelope: int, message: Message) -> bool:
    """Would cleanup's queue file pass `limit` bytes? Each line's records take at least its bytes with CRLF and at
    most 1/128 more, so only a message near the limit has its lines counted."""
    if not limit:
        return False
    least = envelope + message.size
    if least > limit:
        return True
    if least + message.size // 128 + 1 <= limit:
        return False
    return envelope + content_size(message) > limit
