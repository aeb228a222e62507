"""smtp_connect_timeout limits the TCP connection only; the greeting and the EHLO reply get smtp_helo_timeout, as
in Postfix: a server whose processes are all busy keeps a client waiting in its listen queue, not refusing it."""

from __future__ import annotations

import asyncio
import time

import pytest

from filterd.qmgr.smtp_delivery import SmtpDelivery, SmtpSettings
from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool

CONTENT = b"Subject: hi\r\n\r\nbody\r\n"
GREETING_DELAY = 0.5


async def _late_greeting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An SMTP server that greets GREETING_DELAY seconds after the connection, then accepts everything."""
    await asyncio.sleep(GREETING_DELAY)
    writer.write(b"220 late.test ESMTP\r\n")
    in_data = False
    while line := await reader.readline():
        if in_data:
            in_data = line != b".\r\n"
            writer.write(b"" if in_data else b"250 2.0.0 queued\r\n")
            continue
        verb = line[:4].upper()
        writer.write({b"EHLO": b"250-late.test\r\n250 8BITMIME\r\n", b"DATA": b"354 go ahead\r\n",
                      b"QUIT": b"221 bye\r\n"}.get(verb, b"250 2.0.0 ok\r\n"))
        in_data = verb == b"DATA"
        await writer.drain()
    writer.close()


def _deliver(tmp_path, settings: SmtpSettings) -> Recipient:
    rcpt = Recipient("bob@example.net")
    envelope = QueueEnvelope("4jgBYL2V4gzHjcSx3", "alice@example.org", [rcpt], time.time(), size=len(CONTENT))
    qf = QueueFile.read(str(Spool(tmp_path).create().store("active", envelope, iter([CONTENT]))))

    async def attempt() -> None:
        server = await asyncio.start_server(_late_greeting, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            await SmtpDelivery(settings).deliver(qf, qf.envelope.recipients, ("127.0.0.1", "127.0.0.1", port))
        finally:
            server.close()

    asyncio.run(attempt())
    return qf.envelope.recipients[0]


def test_a_late_greeting_is_awaited_past_smtp_connect_timeout(tmp_path):
    rcpt = _deliver(tmp_path, SmtpSettings("filterd.test", connect_timeout=0.1))
    assert rcpt.status == "sent"


def test_a_greeting_later_than_smtp_helo_timeout_is_a_failed_connection(tmp_path):
    with pytest.raises(ConnectionError, match="timed out"):
        _deliver(tmp_path, SmtpSettings("filterd.test", helo_timeout=0.1))
