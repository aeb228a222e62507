"""The SMTP handler's DATA path: what a message in DATA holds in memory while it arrives."""

from __future__ import annotations

import asyncio
import tracemalloc

from filterd.chain import Chain
from filterd.config import Config, parse_main_cf
from filterd.nexthop.sink import SinkNextHop
from filterd.parameters import CORE_PARAMETERS
from filterd.registry import Plugins
from filterd.smtp.handler import SmtpHandler
from filterd.smtp.settings import SmtpSettings

MESSAGE_SIZE = 250 * 1024
PIECE = b"x" * 76 + b"\r\n"


def default_settings() -> SmtpSettings:
    """The SMTP settings of an empty main.cf."""
    return SmtpSettings.from_config(Config(parse_main_cf("", "main.cf"), CORE_PARAMETERS, "main.cf"))


async def held_while_receiving(handler: SmtpHandler) -> tuple[int, bytes]:
    """Bring a transaction into DATA, send MESSAGE_SIZE bytes of body: the most memory traced meanwhile, and
    the body as spooled."""
    await handler.on_connect()
    await handler.helo("client.example", extended=True)
    await handler.mail("a@example.org", [])
    await handler.rcpt("b@example.net", [])
    assert await handler.start_data() is None
    tracemalloc.start()
    try:
        await handler.content(b"Subject: big\r\n\r\n")
        for _ in range(MESSAGE_SIZE // len(PIECE)):
            await handler.content(PIECE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, b"".join(handler.txn.message.body_chunks())


def test_a_message_in_data_holds_at_most_a_small_buffer_in_memory(tmp_path):
    handler = SmtpHandler(default_settings(), Chain(Plugins.load([])), lambda: SinkNextHop(str(tmp_path)))
    peak, body = asyncio.run(held_while_receiving(handler))
    assert body.endswith(PIECE * (MESSAGE_SIZE // len(PIECE)))
    assert peak < 128 * 1024, f"{peak} bytes held for a {MESSAGE_SIZE}-byte message"
