"""SMTP reinjection kept open for a resident service: two messages, one connection; a connection the server
dropped meanwhile is replaced, and no message is lost."""

from __future__ import annotations

import asyncio

from aiosmtpd.controller import Controller

from filterd.model import Message
from filterd.pipe.reinjection import SmtpReinjection
from tests.harness import free_port


class Counting:
    def __init__(self):
        self.connections, self.messages = 0, []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 2.0.0 Ok: queued"


def message() -> Message:
    return Message.from_bytes(b"Subject: x\r\n\r\nhello\r\n")


def send_twice(restart_between: bool) -> Counting:
    """Two messages through one SmtpReinjection; the server restarted between them, dropping its connections."""
    handler, port = Counting(), free_port()
    controllers = [Controller(handler, hostname="127.0.0.1", port=port)]
    controllers[0].start()

    async def run():
        smtp = SmtpReinjection("127.0.0.1", port, "filter.example", keep=True)
        first = await smtp.send("a@example.org", ["b@example.net"], message())
        if restart_between:
            await asyncio.to_thread(controllers[0].stop)
            controllers.append(Controller(handler, hostname="127.0.0.1", port=port))
            controllers[-1].start()
        second = await smtp.send("a@example.org", ["b@example.net"], message())
        await smtp.close()
        return first, second
    try:
        replies = asyncio.run(run())
    finally:
        controllers[-1].stop()
    assert [code for code, _ in replies] == [250, 250]
    return handler


def test_the_second_message_reuses_the_connection():
    handler = send_twice(restart_between=False)
    assert (handler.connections, len(handler.messages)) == (1, 2)


def test_a_connection_the_server_dropped_is_replaced():
    handler = send_twice(restart_between=True)
    assert (handler.connections, len(handler.messages)) == (2, 2)
