"""PIPELINING in filterd's SMTP clients: the reply parser and reader with bytes alone, then deliveries to a server
that offers it and answers each pipelined command in a write of its own (what aiosmtplib alone would drop)."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiosmtplib import SMTPResponseException, SMTPServerDisconnected, SMTPTimeoutError

from filterd.pipelining import MAX_REPLY, ReplyReader, parse_reply
from filterd.qmgr.smtp_delivery import SmtpDelivery, SmtpSettings
from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool

CONTENT = b"Subject: hi\r\n\r\n.dot\r\nbody\r\n"


# --- the reply parser and reader, bytes alone -------------------------------------------------------------------

def test_replies_are_taken_one_at_a_time_and_a_partial_one_waits():
    buffer = bytearray(b"250 2.1.0 Ok\r\n250-first\r\n250 2.1.5 second\r\n354 End data with")
    assert parse_reply(buffer) == (250, "2.1.0 Ok")
    assert parse_reply(buffer) == (250, "first\n2.1.5 second")
    assert parse_reply(buffer) is None
    buffer += b" <CR><LF>.<CR><LF>\r\n"
    assert parse_reply(buffer) == (354, "End data with <CR><LF>.<CR><LF>")
    assert buffer == b""


@pytest.mark.parametrize("data, error", [(b"hello there\r\n", "Malformed"), (b"2" * (MAX_REPLY + 1), "too long")])
def test_a_malformed_or_endless_reply_is_an_error(data, error):
    with pytest.raises(SMTPResponseException, match=error):
        parse_reply(bytearray(data))


class _Owner:
    """aiosmtplib's protocol as the reader sees it: told of flow control and of the connection's loss."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def connection_lost(self, exc) -> None:
        self.calls.append("lost")

    def pause_writing(self) -> None:
        self.calls.append("pause")

    def resume_writing(self) -> None:
        self.calls.append("resume")


def test_replies_fed_a_byte_at_a_time_come_out_whole_and_in_order():
    async def read() -> list:
        reader = ReplyReader(_Owner())
        for byte in b"250 a\r\n550-5.1.1 no\r\n550 5.1.1 such user\r\n354 go\r\n":
            reader.data_received(bytes([byte]))
        return [await reader.next(1) for _ in range(3)]

    assert asyncio.run(read()) == [(250, "a"), (550, "5.1.1 no\n5.1.1 such user"), (354, "go")]


def test_the_connection_lost_ends_the_wait_and_is_passed_on():
    owner = _Owner()

    async def read() -> None:
        reader = ReplyReader(owner)
        reader.pause_writing()
        reader.resume_writing()
        asyncio.get_running_loop().call_later(0.05, reader.connection_lost, None)
        await reader.next(5)

    with pytest.raises(SMTPServerDisconnected):
        asyncio.run(read())
    assert owner.calls == ["pause", "resume", "lost"]


def test_a_reply_that_does_not_come_is_a_timeout():
    async def read() -> None:
        await ReplyReader(_Owner()).next(0.05)

    with pytest.raises(SMTPTimeoutError):
        asyncio.run(read())


# --- deliveries to a server that offers PIPELINING --------------------------------------------------------------

class Server:
    """An SMTP server that offers PIPELINING and writes each reply on its own, a moment apart; `replies` maps a
    command's verb (or the address after RCPT TO:) to its reply. It keeps every read and every line."""

    def __init__(self, replies: dict[bytes, bytes], pipelining: bool = True):
        self.replies, self.pipelining = replies, pipelining
        self.reads: list[bytes] = []
        self.lines: list[bytes] = []

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 pipe.test ESMTP\r\n")
        buffered, in_data = b"", False
        while chunk := await reader.read(65536):
            self.reads.append(chunk)
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            for line in (line + b"\n" for line in lines):
                self.lines.append(line)
                if in_data:
                    in_data = line != b".\r\n"
                    reply = b"" if in_data else self.replies.get(b".", b"250 2.0.0 queued as 4QID")
                else:
                    reply, in_data = self._reply(line)
                if reply:
                    writer.write(reply + b"\r\n")
                    await writer.drain()
                    await asyncio.sleep(0.01)
        writer.close()

    def _reply(self, line: bytes) -> tuple[bytes, bool]:
        verb = line[:4].upper()
        if verb == b"EHLO":
            return b"250-pipe.test\r\n250-PIPELINING\r\n250 8BITMIME" if self.pipelining else b"250 pipe.test", False
        if verb == b"RCPT":
            address = line.split(b"<", 1)[1].split(b">", 1)[0]
            return self.replies.get(address, b"250 2.1.5 Ok"), False
        reply = self.replies.get(verb, {b"DATA": b"354 go ahead", b"QUIT": b"221 bye"}.get(verb, b"250 2.0.0 Ok"))
        return reply, verb == b"DATA" and reply.startswith(b"354")


def deliver(tmp_path, server: Server, addresses: list[str]) -> list[Recipient]:
    recipients = [Recipient(address) for address in addresses]
    envelope = QueueEnvelope("4jgBYL2V4gzHjcSx3", "alice@example.org", recipients, time.time(), size=len(CONTENT))
    qf = QueueFile.read(str(Spool(tmp_path).create().store("active", envelope, iter([CONTENT]))))

    async def attempt() -> None:
        listener = await asyncio.start_server(server.session, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        try:
            await SmtpDelivery(SmtpSettings("filterd.test")).deliver(
                qf, qf.envelope.recipients, ("pipe.test", "127.0.0.1", port))
        finally:
            listener.close()

    asyncio.run(attempt())
    return qf.envelope.recipients


def test_the_envelope_goes_in_one_write_and_replies_written_apart_are_all_read(tmp_path):
    server = Server({b"b@example.net": b"550 5.1.1 <b@example.net>: no such user"})
    a, b, c = deliver(tmp_path, server, ["a@example.net", "b@example.net", "c@example.net"])
    assert (a.status, b.status, c.status) == ("sent", "bounced", "sent")
    assert b.text == ("host pipe.test[127.0.0.1] said: 550 5.1.1 <b@example.net>: no such user (in reply to RCPT TO "
                      "command)")
    assert a.text == "250 2.0.0 queued as 4QID"
    assert b"MAIL FROM:<alice@example.org>\r\nRCPT TO:<a@example.net>\r\nRCPT TO:<b@example.net>\r\n" \
           b"RCPT TO:<c@example.net>\r\nDATA\r\n" in server.reads
    assert b"..dot\r\n" in server.lines


def test_a_server_without_pipelining_gets_a_command_at_a_time(tmp_path):
    server = Server({}, pipelining=False)
    [rcpt] = deliver(tmp_path, server, ["a@example.net"])
    assert rcpt.status == "sent"
    assert not any(read.count(b"\r\n") > 1 and b"MAIL" in read for read in server.reads)


def test_a_refused_mail_from_refuses_everyone_and_a_354_that_follows_is_ended_with_a_dot(tmp_path):
    server = Server({b"MAIL": b"451 4.3.0 try later"})
    a, b = deliver(tmp_path, server, ["a@example.net", "b@example.net"])
    assert (a.status, b.status) == ("deferred", "deferred")
    assert a.text == "host pipe.test[127.0.0.1] said: 451 4.3.0 try later (in reply to MAIL FROM command)"
    assert server.lines[-3:] == [b".\r\n", b"RSET\r\n", b"QUIT\r\n"]


def test_every_recipient_refused_sends_no_content(tmp_path):
    server = Server({b"a@example.net": b"550 5.1.1 no", b"DATA": b"554 5.5.1 Error: no valid recipients"})
    [rcpt] = deliver(tmp_path, server, ["a@example.net"])
    assert rcpt.status == "bounced" and rcpt.text.endswith("550 5.1.1 no (in reply to RCPT TO command)")
    assert server.lines[-2:] == [b"RSET\r\n", b"QUIT\r\n"]


def test_a_refused_data_is_named_as_postfix_names_it(tmp_path):
    server = Server({b"DATA": b"451 4.3.0 not now"})
    [rcpt] = deliver(tmp_path, server, ["a@example.net"])
    assert rcpt.status == "deferred"
    assert rcpt.text == "host pipe.test[127.0.0.1] said: 451 4.3.0 not now (in reply to DATA command)"
