"""`filterd pipe` as the pipe service's client, as spamc is spamd's: the envelope and stdin go to the resident
filterd named by filterd_pipe_service, its answer comes back as this process's exit status and output. It
imports only the protocol and the socket module's C core (`socket` itself would add enum, selectors and collections:
as much time as the rest of the client), so that a message costs a small process; the service unreachable is exit
75 (pipe(8) defers, nothing is lost)."""

from __future__ import annotations

import _socket
import sys

from filterd import TYPE_CHECKING
from filterd.pipe import EX_TEMPFAIL, EX_UNAVAILABLE
from filterd.pipe.protocol import END, ProtocolError, encode_chunk, encode_request, parse_reply

if TYPE_CHECKING:
    from typing import IO

READ_SIZE = 65536
REPLY_LIMIT = 8192


def parse_service(value: str) -> tuple[int, object]:
    """(address family, address) of unix:/PATH or inet:HOST:PORT; ValueError otherwise (a port over 65535
    too, which connect() would raise as OverflowError)."""
    kind, _, rest = value.partition(":")
    if kind in ("unix", "local") and rest.startswith("/"):
        return _socket.AF_UNIX, rest
    host, _, port = rest.rpartition(":")
    if kind == "inet" and host and port.isascii() and port.isdigit() and int(port) <= 65535:
        host = host.removeprefix("[").removesuffix("]")
        return (_socket.AF_INET6 if ":" in host else _socket.AF_INET), (host, int(port))
    raise ValueError(f'bad value "{value}": expected unix:/PATH or inet:HOST:PORT')


def hand_over(service: str, sender: str, recipients: list[str], stdin: IO[bytes] | None = None,
              stdout: IO[str] | None = None) -> int:
    """Send the message to the service and print its answer; the exit status for pipe(8)."""
    stdin, stdout = stdin or sys.stdin.buffer, stdout or sys.stdout
    status, text = _exchange(service, sender, recipients, stdin)
    if text:
        stdout.write(f"{text}\n")
    return status


def _exchange(service: str, sender: str, recipients: list[str], stdin: IO[bytes]) -> tuple[int, str]:
    try:
        family, address = parse_service(service)
    except ValueError as exc:
        return EX_TEMPFAIL, f"4.3.5 filterd configuration error: filterd_pipe_service: {exc}"
    try:
        request = encode_request(sender, recipients)
    except ValueError as exc:
        return EX_UNAVAILABLE, f"5.1.3 {exc}"
    sock = _socket.socket(family, _socket.SOCK_STREAM)
    try:
        sock.connect(address)
    except OSError as exc:
        sock.close()
        return EX_TEMPFAIL, f"4.3.0 cannot connect to the filterd pipe service {service}: {exc.strerror or exc}"
    try:
        _send(sock, request, stdin)
        return parse_reply(_receive(sock))
    except (OSError, ProtocolError) as exc:
        return EX_TEMPFAIL, f"4.3.0 lost connection with the filterd pipe service {service}: {_reason(exc)}"
    finally:
        sock.close()


def _send(sock: _socket.socket, request: bytes, stdin: IO[bytes]) -> None:
    sock.sendall(request)
    while chunk := stdin.read(READ_SIZE):
        sock.sendall(encode_chunk(chunk))
    sock.sendall(END)


def _receive(sock: _socket.socket) -> bytes:
    """Everything the service says until it closes the connection (a reply is one short line)."""
    received = b""
    while len(received) <= REPLY_LIMIT and (data := sock.recv(REPLY_LIMIT)):
        received += data
    return received


def _reason(exc: Exception) -> str:
    return (getattr(exc, "strerror", None) or str(exc)) if isinstance(exc, OSError) else str(exc)
