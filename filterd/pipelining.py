"""PIPELINING (RFC 2920) for filterd's SMTP clients (the delivery agent, the proxy's next hop): commands that may
go together (XFORWARD, MAIL, RCPT, DATA) go in one write and their replies are read in order, as Postfix's smtp(8)
sends them to a server that offers it.

aiosmtplib reads one reply to each command it sends, and drops what arrives while no reply is awaited, so the
replies to pipelined commands are read by `ReplyReader`, the transport's protocol until they are in; aiosmtplib's
protocol is the transport's again afterwards, for the message's content and what follows."""

from __future__ import annotations

import asyncio
import collections

from aiosmtplib import SMTPResponse, SMTPResponseException, SMTPServerDisconnected, SMTPTimeoutError

MAX_REPLY = 65536
"""The most bytes one reply may take (aiosmtplib's own limit is the same order)."""


def parse_reply(buffer: bytearray) -> SMTPResponse | None:
    """The first whole reply in `buffer`, taken out of it; None while it is incomplete. Lines joined as
    aiosmtplib joins them (text after the code, one line each)."""
    offset, lines = 0, []
    while (end := buffer.find(b"\n", offset)) >= 0:
        line = bytes(buffer[offset:end + 1])
        offset = end + 1
        if not line[:3].isdigit():
            raise SMTPResponseException(-1, f"Malformed SMTP response line: {line.decode('utf-8', 'replace')}")
        lines.append(line[4:].strip(b" \t\r\n"))
        if line[3:4] != b"-":
            del buffer[:offset]
            return SMTPResponse(int(line[:3]), b"\n".join(lines).decode("utf-8", "surrogateescape"))
    if len(buffer) > MAX_REPLY:
        raise SMTPResponseException(-1, "Response too long")
    return None


class ReplyReader(asyncio.Protocol):
    """The transport's protocol while pipelined replies are read: every reply kept, in order; flow control and
    the loss of the connection passed on to aiosmtplib's protocol, which stays the connection's owner."""

    def __init__(self, owner: asyncio.BaseProtocol):
        self.owner = owner
        self.buffer = bytearray()
        self.replies: collections.deque[SMTPResponse] = collections.deque()
        self.error: Exception | None = None
        self._waiter: asyncio.Future | None = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            while (reply := parse_reply(self.buffer)) is not None:
                self.replies.append(reply)
        except SMTPResponseException as exc:
            self.error = exc
        self._wake()

    def eof_received(self) -> bool:
        self.error = self.error or SMTPServerDisconnected("Unexpected EOF received")
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.error = self.error or SMTPServerDisconnected("Connection lost")
        self._wake()
        self.owner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.owner.pause_writing()

    def resume_writing(self) -> None:
        self.owner.resume_writing()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next(self, timeout: float) -> SMTPResponse:
        """The next reply, within `timeout` seconds."""
        while not self.replies:
            if self.error is not None:
                raise self.error
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(self._waiter, timeout)
            except asyncio.TimeoutError:
                raise SMTPTimeoutError("Timed out waiting for server response") from None
        return self.replies.popleft()


async def pipelined(smtp, commands: list[bytes], timeout: float) -> list[SMTPResponse]:
    """Send the commands in one write and return their replies, in order."""
    transport, owner = smtp.transport, smtp.protocol
    if transport is None or owner is None or transport.is_closing():
        raise SMTPServerDisconnected("Connection lost")
    reader = ReplyReader(owner)
    transport.set_protocol(reader)
    try:
        transport.write(b"".join(command + b"\r\n" for command in commands))
        replies = [await reader.next(timeout) for _ in commands]
    finally:
        if not transport.is_closing():
            transport.set_protocol(owner)
    if reader.buffer:
        raise SMTPResponseException(-1, "Reply without a command: " + reader.buffer[:80].decode("utf-8", "replace"))
    return replies
