"""The policy listener on a loopback socket: requests answered in order on one connection, a malformed request
answered by a warning and a closed connection, the request limit and idle limit closing the connection."""

from __future__ import annotations

import asyncio
import socket

from filterd import Verdict, hookimpl
from filterd.chain import Chain
from filterd.policy.server import PolicySettings, serve_policy
from filterd.testing import load_plugins

REQUEST = (b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.1\nclient_port=1\n"
           b"instance=1\nsender=a@example.org\nrecipient=%s\n\n")


class RefuseBad:
    @hookimpl
    def rcpt(self, recipient):
        return Verdict.reject("5.1.1 no such user") if recipient.startswith("bad@") else None


def listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    return sock


def converse(sent: list[bytes], settings: PolicySettings = PolicySettings()) -> bytes:
    """Everything the server said on one connection until it closed it or went quiet after the last request."""
    async def run() -> bytes:
        sock = listening()
        server = await serve_policy(sock, Chain(load_plugins(RefuseBad())), settings)
        reader, writer = await asyncio.open_connection(*sock.getsockname())
        heard = b""
        for data in sent:
            writer.write(data)
            heard += await _reply_or_end(reader)
        writer.close()
        server.close()
        return heard
    return asyncio.run(run())


async def _reply_or_end(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\n\n")
    except asyncio.IncompleteReadError as end:
        return end.partial + b"<closed>"


def test_requests_are_answered_in_order_on_one_connection():
    heard = converse([REQUEST % b"a@example.net", REQUEST % b"bad@example.net", REQUEST % b"b@example.net"])
    assert heard == b"action=DUNNO\n\naction=550 5.1.1 no such user\n\naction=DUNNO\n\n"


def test_a_malformed_request_gets_no_reply_a_warning_and_a_closed_connection(caplog):
    assert converse([b"request=smtpd_access_policy\nno equals sign\n\n"]) == b"<closed>"
    assert "malformed request from 127.0.0.1:" in caplog.text
    assert "bad attribute line: no equals sign; closing the connection" in caplog.text


def test_a_request_of_another_kind_gets_no_reply():
    assert converse([b"request=junk\n\n"]) == b"<closed>"


def test_the_connection_closes_after_request_limit_requests():
    heard = converse([REQUEST % b"a@example.net", REQUEST % b"b@example.net"], PolicySettings(request_limit=1))
    assert heard == b"action=DUNNO\n\n<closed>"


def test_an_idle_connection_is_closed_after_max_idle():
    async def run() -> bytes:
        sock = listening()
        server = await serve_policy(sock, Chain(load_plugins(RefuseBad())), PolicySettings(max_idle=0))
        reader, writer = await asyncio.open_connection(*sock.getsockname())
        heard = await reader.read()
        writer.close()
        server.close()
        return heard
    assert asyncio.run(run()) == b""


def test_a_connection_past_max_ttl_is_closed_once_its_request_is_answered():
    heard = converse([REQUEST % b"a@example.net", REQUEST % b"b@example.net"], PolicySettings(max_ttl=0))
    assert heard == b"action=DUNNO\n\n<closed>"
