"""The objects every hook receives: Session (connection), Envelope (transaction), Message (its headers are
filterd.content's Header objects)."""

from __future__ import annotations

import email
import email.policy
import io
from dataclasses import dataclass, field
from typing import IO, Any, Iterable, Iterator

from filterd.content import ContentParser, Header, crlf_lines

_CHUNK = 65536


@dataclass
class Session:
    """One client connection: who it is, what it said at HELO, what it proved."""

    client_address: str = "127.0.0.1"
    client_port: int = 0
    client_name: str = "unknown"
    """The client's name when it resolves back to the client's address, else "unknown" (Postfix's client_name)."""
    reverse_client_name: str = ""
    """The name of the client's address whether or not it resolves back (Postfix's reverse_client_name); "" where only
    client_name is known (an MTA's milter macros, a policy request), which then stands for it."""
    client_name_status: str = ""
    """How client_name's lookup ended, in Postfix's {client_resolve} words: OK, FAIL (no name), FORGED (the name does
    not resolve back to the address), TEMP (the DNS failed for now); "" where filterd made no lookup."""
    reverse_client_name_status: str = ""
    """How reverse_client_name's lookup ended: OK, FAIL or TEMP; "" where filterd made no lookup."""
    server_address: str = ""
    """The address the client connected to (Postfix's server_address); "" where it is not known."""
    server_port: int = 0
    helo: str = ""
    protocol: str = "SMTP"
    tls: bool = False
    tls_protocol: str = ""
    """The TLS version once the handshake is done (`TLSv1.3`), for the Received: header and the log."""
    tls_cipher: str = ""
    tls_cipher_bits: int = 0
    tls_details: str = ""
    """Postfix's `key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256`, when known."""
    sasl_username: str = ""
    """The name the client authenticated as with SMTP AUTH (or the MTA's {auth_authen}); "" when it did not."""
    sasl_method: str = ""
    """The SASL mechanism it authenticated with (PLAIN, LOGIN, ...; the MTA's {auth_type})."""
    sasl_sender: str = ""
    """The MAIL FROM AUTH= address of the current transaction (the MTA's {auth_author}); "" when none."""
    improper_pipelining: bool = False
    """The client sent a command before the reply it had to wait for (Postfix's `improper command pipelining`
    line), as reject_unauth_pipelining asks."""
    daemon_name: str = "smtpd"
    port_logging: bool = False
    """smtpd_client_port_logging: `client` (what the log and replies name) ends in :PORT."""
    forwarded_ident: str = ""
    """The queue id the MTA in front gave the message (XFORWARD IDENT), passed on to the next hop."""
    forwarded_source: str = ""
    """LOCAL or REMOTE, where the MTA in front had the message from (XFORWARD SOURCE); "" when it did not say."""
    xforwarded: dict[str, Any] | None = None
    """The connection's own client attributes while XFORWARD's stand in for them; None without XFORWARD."""
    notes: dict[str, Any] = field(default_factory=dict)

    def unforwarded(self) -> Session:
        """The session with the connection's own client: what Postfix's restrictions judge, XFORWARD's attributes
        being for logging only (XFORWARD_README); the session itself without XFORWARD."""
        if not self.xforwarded:
            return self
        real = object.__new__(Session)
        real.__dict__.update(self.__dict__, **self.xforwarded, xforwarded=None)
        return real

    @property
    def client(self) -> str:
        """Postfix's NAME[ADDR] form (NAME[ADDR]:PORT with smtpd_client_port_logging)."""
        if self.port_logging:
            return f"{self.client_name}[{self.client_address}]:{self.client_port}"
        return f"{self.client_name}[{self.client_address}]"

    @property
    def reverse_name(self) -> str:
        """reverse_client_name, or client_name where that is all there is."""
        return self.reverse_client_name or self.client_name

    @property
    def name_status(self) -> str:
        """client_name_status, or what the name says where no lookup was made (OK unless it is "unknown")."""
        return self.client_name_status or ("FAIL" if self.client_name == "unknown" else "OK")

    @property
    def reverse_name_status(self) -> str:
        """reverse_client_name_status, or what the reverse name says where no lookup was made."""
        return self.reverse_client_name_status or ("FAIL" if self.reverse_name == "unknown" else "OK")


@dataclass
class Envelope:
    """One mail transaction: sender, recipients, ESMTP parameters and the queue id."""

    queue_id: str = ""
    sender: str | None = ""
    """"" for the null sender; None only where the MTA never said (a milter told to skip MAIL)."""
    recipients: list[str] = field(default_factory=list)
    mail_options: list[str] = field(default_factory=list)
    rcpt_options: dict[str, list[str]] = field(default_factory=dict)
    arrival: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def smtputf8(self) -> bool:
        return any(o.upper() == "SMTPUTF8" for o in self.mail_options)

    @property
    def body_type(self) -> str:
        for option in self.mail_options:
            if option.upper().startswith("BODY="):
                return option[5:].upper()
        return ""


class Message:
    """The message: parsed headers in memory, the body in a file-like spool (never read whole by the core)."""

    def __init__(self, headers: list[Header] | None = None, body: IO[bytes] | None = None, body_offset: int = 0):
        self.headers: list[Header] = headers if headers is not None else []
        self._body = body if body is not None else io.BytesIO()
        self._body_offset = body_offset

    @classmethod
    def from_bytes(cls, data: bytes) -> Message:
        """Parse a whole message (for tests and `filterd check`), normalising line endings to CRLF."""
        return cls.from_chunks([data])

    @classmethod
    def from_chunks(cls, chunks: Iterable[bytes], spool: IO[bytes] | None = None) -> Message:
        """Parse a stored or submitted message, line endings made CRLF, its body written to `spool`."""
        parser = ContentParser(spool if spool is not None else io.BytesIO(), want_body_events=False)
        for line in crlf_lines(chunks):
            parser.feed_line(line)
        parser.finish_events()
        parser.spool.flush()
        return cls(parser.headers, parser.spool)

    def get(self, name: str, default: str | None = None) -> str | None:
        for header in self.headers:
            if header.name.lower() == name.lower():
                return header.value
        return default

    def get_all(self, name: str) -> list[str]:
        return [h.value for h in self.headers if h.name.lower() == name.lower()]

    def __getitem__(self, name: str) -> str | None:
        return self.get(name)

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    @property
    def body_size(self) -> int:
        self._body.seek(0, io.SEEK_END)
        return self._body.tell() - self._body_offset

    @property
    def size(self) -> int:
        return sum(len(h.raw) for h in self.headers) + 2 + self.body_size

    def body_chunks(self, size: int = _CHUNK) -> Iterator[bytes]:
        """The body in chunks, streamed from the spool."""
        self._body.seek(self._body_offset)
        while chunk := self._body.read(size):
            yield chunk

    def body_lines(self) -> Iterator[bytes]:
        """Body lines with their CRLF, streamed from the spool."""
        self._body.seek(self._body_offset)
        yield from iter(self._body.readline, b"")

    def body_bytes(self) -> bytes:
        """The whole body in memory: a plugin's choice, never the core's."""
        return b"".join(self.body_chunks())

    def header_bytes(self) -> bytes:
        return b"".join(h.raw for h in self.headers) + b"\r\n"

    def chunks(self) -> Iterator[bytes]:
        """The whole message as it stands (headers, blank line, body), streamed."""
        yield self.header_bytes()
        yield from self.body_chunks()

    def as_bytes(self) -> bytes:
        return b"".join(self.chunks())

    def as_email(self) -> email.message.EmailMessage:
        """The message parsed by the standard library, for plugins that want MIME parts."""
        data = self.as_bytes().replace(b"\r\n", b"\n")
        return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]

    def close(self) -> None:
        self._body.close()
