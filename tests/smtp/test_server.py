"""The SMTP front end's glue to aiosmtpd, without sockets."""

import asyncio

from aiosmtpd.smtp import SMTP

from filterd.chain import Chain
from filterd.model import Session
from filterd.nexthop.sink import SinkNextHop
from filterd.registry import Plugins
from filterd.smtp.handler import SmtpHandler
from filterd.smtp.server import SmtpServer, apply_xforward
from filterd.smtp.settings import SmtpSettings


def make_server(loop):
    handler = SmtpHandler(SmtpSettings(), Chain(Plugins.load([])), lambda: SinkNextHop("/nonexistent"))
    return SmtpServer(handler, loop)


def test_fast_init_sets_every_attribute_aiosmtpd_sets():
    loop = asyncio.new_event_loop()
    try:
        ours, theirs = make_server(loop), SMTP(object(), loop=loop)
        assert set(vars(theirs)) - set(vars(ours)) == set()
    finally:
        loop.close()


def test_every_smtp_command_is_dispatched_and_counted():
    loop = asyncio.new_event_loop()
    try:
        server = make_server(loop)
        assert {"EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "QUIT", "NOOP", "XFORWARD"} <= set(server._smtp_methods)
        assert server._handle_hooks["MAIL"] == server.handler.handle_MAIL
    finally:
        loop.close()


def test_xforward_attributes_are_decoded():
    session = Session()
    apply_xforward(session, "NAME=mail.example ADDR=192.0.2.1 PORT=4321 HELO=he+2Blo PROTO=ESMTP IDENT=[UNAVAILABLE]")
    assert (session.client_name, session.client_address, session.client_port, session.helo, session.protocol) == \
        ("mail.example", "192.0.2.1", 4321, "he+lo", "ESMTP")
