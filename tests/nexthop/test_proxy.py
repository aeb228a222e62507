"""The proxy's and the filter listener's next hop against a small SMTP server on loopback: XFORWARD with the MTA's
queue id, pipelined with MAIL, and the filter listener's session kept between transactions, replaced when the
server closed it."""

import asyncio

from filterd.connection_cache import CacheLimits, ConnectionCache
from filterd.model import Envelope, Message, Session
from filterd.nexthop.proxy import ProxyNextHop

HOST = "127.0.0.1"


class Server:
    """Answers 250 to everything (354 to DATA), offers XFORWARD, records each connection's commands; with
    `close_idle`, hangs up on a client once a transaction is done."""

    def __init__(self, close_idle: bool = False, data_reply: bytes = b"250 2.0.0 Ok: queued as X",
                 pipelining: bool = True):
        self.pipelining = pipelining
        self.sessions: list[list[str]] = []
        self.mail_behind_xforward: list[bool] = []
        self.close_idle, self.data_reply = close_idle, data_reply

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._session, HOST, 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        self.server.close()

    async def _session(self, reader, writer):
        commands: list[str] = []
        self.sessions.append(commands)
        writer.write(b"220 test ESMTP\r\n")
        while line := await reader.readline():
            command = line.decode().rstrip("\r\n")
            commands.append(command)
            verb = command.split(" ")[0].upper()
            if verb == "EHLO":
                writer.write(b"250-test\r\n" + b"250-PIPELINING\r\n" * self.pipelining +
                             b"250 XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT\r\n")
            elif verb == "XFORWARD":
                self.mail_behind_xforward.append(b"MAIL FROM" in bytes(reader._buffer))
                writer.write(b"250 2.0.0 Ok\r\n")
            elif verb == "DATA":
                writer.write(b"354 go ahead\r\n")
                while (await reader.readline()) != b".\r\n":
                    pass
                writer.write(self.data_reply + b"\r\n")
                if self.close_idle:
                    await writer.drain()
                    writer.close()
                    return
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                writer.close()
                return
            else:
                writer.write(b"250 2.0.0 Ok\r\n")
            await writer.drain()


async def transaction(hop: ProxyNextHop, session: Session, number: int):
    envelope = Envelope(f"Q{number}", "a@example.org", ["b@example.net"])
    assert (await hop.begin(session, envelope)).ok
    assert (await hop.recipient("b@example.net", [])).ok
    return await hop.deliver(Message.from_bytes(b"Subject: s\r\n\r\nbody\r\n"))


def run(server: Server, cache: ConnectionCache | None, transactions: int = 3, session: Session | None = None):
    async def go():
        async with server:
            replies = []
            for number in range(transactions):
                hop = ProxyNextHop(HOST, server.port, 10.0, "filter.test", cache=cache)
                replies.append(await transaction(hop, session or Session(), number))
                await asyncio.sleep(0.05)
            if cache is not None:
                await cache.quit_all()
            await asyncio.sleep(0.05)
            return replies
    return asyncio.run(go())


def test_the_filter_listener_s_cache_carries_every_transaction_over_one_session():
    server = Server()
    replies = run(server, ConnectionCache(CacheLimits(time_limit=10.0)))
    assert [r.code for r in replies] == [250, 250, 250]
    [commands] = server.sessions
    assert [c.split(" ")[0] for c in commands] == ["EHLO", *["XFORWARD", "MAIL", "RCPT", "DATA"] * 3, "QUIT"]
    assert server.mail_behind_xforward == [True, True, True]  # PIPELINING: one write


def test_without_pipelining_xforward_waits_for_its_reply():
    server = Server(pipelining=False)
    assert [r.code for r in run(server, None, transactions=2)] == [250, 250]
    assert server.mail_behind_xforward == [False, False]


def test_without_a_cache_each_transaction_has_its_own_session_as_postfix_s_proxy():
    server = Server()
    run(server, None)
    assert len(server.sessions) == 3
    assert all(commands[-1] == "QUIT" for commands in server.sessions)


def test_a_session_the_server_closed_is_replaced_before_mail():
    server = Server(close_idle=True)
    replies = run(server, ConnectionCache(CacheLimits(time_limit=10.0)))
    assert [r.code for r in replies] == [250, 250, 250]
    assert len(server.sessions) == 3


def test_a_refused_message_is_not_kept_for_the_next():
    server = Server(data_reply=b"554 5.7.1 no thanks")
    replies = run(server, ConnectionCache(CacheLimits(time_limit=10.0)), transactions=2)
    assert [r.code for r in replies] == [554, 554]
    assert len(server.sessions) == 2


def test_xforward_passes_on_the_mta_s_queue_id_and_source():
    session = Session(client_address="192.0.2.7", client_name="mail.example", helo="mail.example", protocol="ESMTP",
                      forwarded_ident="4ABC123", forwarded_source="LOCAL")
    server = Server()
    run(server, None, transactions=1, session=session)
    [xforward] = [c for c in server.sessions[0] if c.startswith("XFORWARD")]
    assert xforward == ("XFORWARD NAME=mail.example ADDR=192.0.2.7 PORT=0 PROTO=ESMTP HELO=mail.example "
                        "IDENT=4ABC123 SOURCE=LOCAL")
