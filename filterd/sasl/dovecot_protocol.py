"""Dovecot's authentication protocol, the client's side, as Postfix's xsasl_dovecot_server speaks it. No I/O.

The client says `VERSION` and `CPID`; the server answers with `VERSION`, one `MECH` line per mechanism, `SPID`,
`CUID`, `COOKIE` and `DONE` (`Handshake`). Each authentication is an `AUTH` request with an id, answered by
`CONT` (a base64 challenge: send `CONT` with the client's response), `OK` or `FAIL` (`parse_reply`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAJOR_VERSION = 1
MINOR_VERSION = 1
MAX_LINE = 65536
"""The longest line accepted from the server (Dovecot's own limit for an auth client's line is 8 kB of base64)."""

CONT, OK, FAIL = "CONT", "OK", "FAIL"
_BASE64 = re.compile(r"[A-Za-z0-9+/=]*")


class ProtocolError(Exception):
    """The server broke the protocol, or is not an auth-client socket."""


def hello(pid: int) -> bytes:
    """What the client says first: its protocol version and process id."""
    return f"VERSION\t{MAJOR_VERSION}\t{MINOR_VERSION}\nCPID\t{pid}\n".encode()


@dataclass
class Handshake:
    """The server's side of the handshake, fed line by line: the mechanisms and their flags, until DONE."""

    mechanisms: dict[str, frozenset[str]] = field(default_factory=dict)
    done: bool = False

    def feed_line(self, line: str) -> None:
        """Take one line (without its newline); ProtocolError when it cannot be an auth-client server's."""
        command, _, rest = line.partition("\t")
        if command == "VERSION":
            self._check_version(rest)
        elif command == "MECH" and rest:
            name, *flags = rest.split("\t")
            self.mechanisms[name.upper()] = frozenset(flag.lower() for flag in flags)
        elif command == "SPID" and not self.mechanisms:
            raise ProtocolError("Connected to wrong auth socket (auth-master instead of auth-client)")
        elif command == "DONE":
            self.done = True

    @staticmethod
    def _check_version(rest: str) -> None:
        major, _, _ = rest.partition("\t")
        if not major.isdigit():
            raise ProtocolError("Protocol version error")
        if int(major) != MAJOR_VERSION:
            raise ProtocolError(f"Protocol version mismatch ({major} vs. {MAJOR_VERSION})")


@dataclass(frozen=True)
class AuthRequest:
    """One AUTH request: what Postfix sends for the SMTP client's AUTH command."""

    request_id: int
    mechanism: str
    service: str
    local_ip: str
    remote_ip: str
    secured: bool = False
    initial_response: str | None = None

    def encode(self) -> bytes:
        fields = ["AUTH", str(self.request_id), self.mechanism, f"service={self.service}", "nologin",
                  f"lip={self.local_ip}", f"rip={self.remote_ip}"]
        if self.secured:
            fields.append("secured")
        if self.initial_response is not None:
            fields.append(f"resp={self.initial_response}")
        return "\t".join(fields).encode() + b"\n"


def continue_request(request_id: int, response: str) -> bytes:
    """The client's response to a challenge (already base64, as the SMTP client sent it)."""
    return f"CONT\t{request_id}\t{response}\n".encode()


@dataclass(frozen=True)
class Reply:
    """The server's answer to a request: CONT with a challenge, OK with the user, or FAIL with a reason."""

    kind: str
    request_id: int
    challenge: str = ""
    user: str = ""
    reason: str = ""


def parse_reply(line: str) -> Reply | None:
    """An OK, CONT or FAIL line as a Reply; None for a line the client ignores, as Postfix does."""
    command, _, rest = line.partition("\t")
    if command not in (CONT, OK, FAIL):
        return None
    request_id, _, args = rest.partition("\t")
    if not request_id.isdigit():
        raise ProtocolError(f"bad request id in {command} reply")
    if command == CONT:
        return Reply(CONT, int(request_id), challenge=args)
    values = dict(arg.partition("=")[::2] for arg in args.split("\t") if arg)
    return Reply(command, int(request_id), user=printable(values.get("user", "")),
                 reason=printable(values.get("reason", "")))


def printable(text: str) -> str:
    """Postfix's printable(): every character that is not printable ASCII becomes '?'."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def is_valid_base64(text: str) -> bool:
    """Whether a client's response uses only base64's alphabet, as Postfix checks before passing it on."""
    return _BASE64.fullmatch(text) is not None


SECURITY_FLAGS = {"noanonymous": "anonymous", "noplaintext": "plaintext", "nodictionary": "dictionary",
                  "noactive": "active", "mutual_auth": "mutual-auth", "forward_secrecy": "forward-secrecy"}
"""smtpd_sasl_security_options, each with the MECH flag it concerns."""


def offered(mechanisms: dict[str, frozenset[str]], security_options: list[str]) -> list[str]:
    """The mechanisms to announce: the server's, less those the security options rule out and the private ones."""
    names = []
    for name, flags in mechanisms.items():
        if "private" in flags or any(_rules_out(option, flags) for option in security_options):
            continue
        names.append(name)
    return names


def _rules_out(option: str, flags: frozenset[str]) -> bool:
    flag = SECURITY_FLAGS.get(option.lower())
    if flag is None:
        return False
    if option.lower() in ("mutual_auth", "forward_secrecy"):
        return flag not in flags
    return flag in flags
