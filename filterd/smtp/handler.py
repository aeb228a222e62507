"""The SMTP transaction: each SMTP event goes through the chain, then to the next hop.

Data flows one way: aiosmtpd's dialogue -> Session/Envelope/Message -> chain -> verdict -> next hop.
This module only translates verdicts and next-hop replies to SMTP replies; it decides nothing itself.
"""

from __future__ import annotations

import tempfile
import time
from typing import Callable

from filterd import maillog, reroute
from filterd.maillog import seconds
from filterd.chain import Chain
from filterd.model import Envelope, Header, Message, Session
from filterd.nexthop import NextHop, Reply, Routing
from filterd.queueid import new_queue_id
from filterd.smtp import replies
from filterd.content import HEADER, ContentParser, run_events, run_events_now
from filterd.smtp.datastream import REJECT, DataDecoder, DataState
from filterd.smtp.received import received_header
from filterd.smtp.settings import SmtpSettings
from filterd.transaction import Transaction
from filterd.verdict import Action, Verdict


def verdict_reply(verdict: Verdict) -> str:
    code, dsn, text = verdict.reply()
    return replies.format_reply(code, dsn, text)


class SmtpHandler:
    """One per connection: runs the chain at each SMTP event and drives the transaction's next hop."""

    def __init__(self, settings: SmtpSettings, chain: Chain, make_nexthop: Callable[[], NextHop]):
        self.settings = settings
        self.chain = chain
        self.make_nexthop = make_nexthop
        self.session = Session(daemon_name=settings.service)
        self.connect_verdict: Verdict | None = None
        self.txn: Transaction | None = None
        self.nexthop: NextHop | None = None
        self.rcpt_attempts = 0
        self.parser: ContentParser | None = None
        self.decoder: DataDecoder | None = None
        self.data_started = 0.0
        self.dsn_options: list[str] = []

    # --- connection --------------------------------------------------------

    async def on_connect(self) -> None:
        maillog.info(self.settings.service, "connect from %s", self.session.client)
        txn = self._scratch()
        verdict = await self.chain.run("connect", txn)
        if verdict.final:
            self.connect_verdict = verdict

    async def on_disconnect(self, summary: str) -> None:
        await self.abort()
        await self.chain.run("disconnect", self._scratch())
        maillog.info(self.settings.service, "disconnect from %s %s", self.session.client, summary)

    def _scratch(self) -> Transaction:
        return Transaction(self.session, Envelope(), service=self.settings.service)

    # --- HELO / EHLO ---------------------------------------------------------

    async def helo(self, hostname: str, extended: bool) -> str:
        self.session.helo = hostname
        self.session.protocol = "ESMTP" if extended else "SMTP"
        verdict = await self.chain.run("helo", self._scratch(), hostname=hostname)
        if verdict.final:
            return verdict_reply(verdict)
        if not extended:
            return f"250 {self.settings.myhostname}"
        lines = [self.settings.myhostname, "PIPELINING", f"SIZE {self.settings.message_size_limit}",
                 "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8"]
        if self.settings.xforward_allowed(self.session.client_address):
            lines.append("XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT")
        return Reply(250, "\n".join(lines)).wire()

    # --- MAIL / RCPT -----------------------------------------------------------

    async def mail(self, sender: str, options: list[str]) -> str:
        await self.abort()
        if self.connect_verdict:
            return self._reject_with(self.connect_verdict, "MAIL", self._scratch())
        envelope = Envelope(sender=sender, mail_options=list(options), arrival=time.time())
        txn = Transaction(self.session, envelope, service=self.settings.service)
        verdict = await self.chain.run("mail_from", txn, sender=sender)
        if verdict.final:
            return verdict_reply(verdict)
        self.txn, self.nexthop, self.rcpt_attempts = txn, self.make_nexthop(), 0
        reply = await self.nexthop.begin(self.session, envelope)
        if not reply.ok:
            await self.abort()
        return reply.wire()

    async def rcpt(self, recipient: str, options: list[str]) -> str:
        txn, nexthop = self.txn, self.nexthop
        if txn is None or nexthop is None:
            return "503 5.5.1 Error: need MAIL command"
        self.rcpt_attempts += 1
        if len(txn.envelope.recipients) >= self.settings.recipient_limit:
            return replies.TOO_MANY_RCPTS
        verdict = await self.chain.run("rcpt", txn, recipient=recipient)
        if verdict.final:
            return verdict_reply(verdict)
        reply = await nexthop.recipient(recipient, options)
        if reply.ok:
            self._accept_recipient(txn, recipient, options)
        return reply.wire()

    def _accept_recipient(self, txn: Transaction, recipient: str, options: list[str]) -> None:
        envelope = txn.envelope
        if not envelope.queue_id:
            envelope.queue_id = new_queue_id()
            maillog.info(self.settings.service, "%s: client=%s", envelope.queue_id, self.session.client)
        envelope.recipients.append(recipient)
        envelope.rcpt_options[recipient] = list(options)

    def _reject_with(self, verdict: Verdict, event: str, txn: Transaction) -> str:
        txn.log_verdict(event, verdict)
        return verdict_reply(verdict)

    # --- DATA ------------------------------------------------------------------

    async def start_data(self) -> str | None:
        """Checks before 354; None means go ahead."""
        txn = self.txn
        if txn is None:
            return "503 5.5.1 Error: need MAIL command"
        if not txn.envelope.recipients:
            return replies.NO_RCPTS if self.rcpt_attempts else replies.NEED_RCPT
        verdict = await self.chain.run("data", txn)
        if verdict.final:
            await self.abort()
            return verdict_reply(verdict)
        self._open_content(txn)
        return await run_events(self.chain, self.txn, [(HEADER, self.parser.headers[0])])

    def _open_content(self, txn: Transaction) -> None:
        spool = tempfile.SpooledTemporaryFile(max_size=self.settings.spool_memory_limit,
                                              dir=self.settings.spool_directory)
        self.parser = ContentParser(spool, self.settings.header_size_limit, self.chain.wants("body"))
        self.parser.headers.append(received_header(self.session, txn.envelope, self.settings.myhostname))
        self.decoder = DataDecoder(self.settings.message_size_limit,
                                   self.settings.bare_newline_mode(self.session.client_address))
        txn.message = Message(self.parser.headers, spool)
        self.data_started = time.time()

    async def content(self, piece: bytes) -> None:
        """One piece of DATA as read from the socket."""
        assert self.decoder is not None and self.parser is not None
        data = self.decoder.feed(piece)
        if not data:
            return
        lines = data.splitlines(keepends=True) if data.find(b"\n") < len(data) - 1 else (data,)
        for line in lines:
            events = self.parser.feed_line(line)
            if events:
                pending = run_events_now(self.chain, self.txn, events)
                if pending is not None:
                    await pending

    def data_state(self) -> DataState:
        assert self.decoder is not None
        return self.decoder.state

    async def end_of_data(self) -> str:
        """The client sent the end of data: decide, deliver, and give the client its reply."""
        txn, state = self.txn, self.data_state()
        assert txn is not None and self.parser is not None and txn.message is not None
        message = txn.message
        try:
            refusal = self._refuse_data(txn, state)
            if refusal:
                await self.abort()
                return refusal
            await run_events(self.chain, self.txn, self.parser.finish_events())
            if txn.final is None:
                await self.chain.run("end_of_message", txn)
            if txn.final is not None:
                return await self._final(txn, txn.final)
            return await self._deliver(txn)
        finally:
            message.close()
            self.parser = self.decoder = None

    def _refuse_data(self, txn: Transaction, state: DataState) -> str | None:
        if state.too_big:
            maillog.info(self.settings.service, "%s: reject: END-OF-MESSAGE from %s: %s; %s", txn.envelope.queue_id,
                         self.session.client, replies.TOO_BIG, txn.envelope_text())
            return replies.TOO_BIG
        if state.bare_newline and self.decoder and self.decoder.bare_newline_mode == REJECT:
            reply = replies.BARE_LF.format(code=self.settings.bare_newline_reject_code)
            maillog.info(self.settings.service, "%s: reject: END-OF-MESSAGE from %s: %s; %s", txn.envelope.queue_id,
                         self.session.client, reply, txn.envelope_text())
            return reply
        return None

    async def _final(self, txn: Transaction, verdict: Verdict) -> str:
        await self.abort()
        if verdict.action is Action.DISCARD:
            return f"250 2.0.0 Ok: queued as {txn.envelope.queue_id}"
        return verdict_reply(verdict)

    async def _deliver(self, txn: Transaction) -> str:
        nexthop, envelope = self.nexthop, txn.envelope
        assert nexthop is not None
        reply = await self._reroute(txn, nexthop)
        if reply is None:
            message = txn.apply_edits()
            started = time.time()
            routing = Routing(txn.hold, txn.filter, txn.redirect, tuple(txn.bcc))
            reply = await nexthop.deliver(message, routing)
            if nexthop.logs_delivery:
                self._log_delivery(txn, nexthop.relay, reply, started)
        self.txn = self.nexthop = None
        if not reply.ok:
            maillog.info(self.settings.service, "%s: proxy-reject: END-OF-MESSAGE from %s: %s; %s",
                         envelope.queue_id, self.session.client, reply, txn.envelope_text())
        return reply.wire()

    async def _reroute(self, txn: Transaction, nexthop: NextHop) -> Reply | None:
        """REDIRECT, BCC and envelope edits, done in-session before DATA goes downstream."""
        envelope, change = txn.envelope, reroute.plan(txn)
        if change.restart:
            reply = await nexthop.restart(change.sender, change.recipients)
            if not reply.ok:
                await self.abort()
                return reply
            recipients = change.recipients
        else:
            refused = [a for a in change.added if not (await nexthop.recipient(a, [])).ok]
            recipients = tuple(r for r in change.recipients if r not in refused)
        envelope.sender, envelope.recipients[:] = change.sender, recipients
        return None

    def _log_delivery(self, txn: Transaction, relay: str, reply: Reply, started: float) -> None:
        envelope, now = txn.envelope, time.time()
        before, transmit = started - envelope.arrival, now - started
        status = "sent" if reply.ok else ("deferred" if reply.code < 500 else "bounced")
        dsn = reply.text.split(" ", 1)[0] if reply.text[:1] in "245" and "." in reply.text[:6] else f"{reply.code // 100}.0.0"
        for rcpt in envelope.recipients:
            maillog.info(self.settings.service, "%s: to=<%s>, relay=%s, delay=%s, delays=%s/0/0/%s, dsn=%s, status=%s (%s)",
                         envelope.queue_id, rcpt, relay, seconds(now - envelope.arrival), seconds(before),
                         seconds(transmit), dsn, status, reply)

    async def abort(self) -> None:
        """End the transaction without delivering anything (RSET, reject, lost client)."""
        nexthop, self.nexthop, self.txn = self.nexthop, None, None
        if nexthop is not None:
            await nexthop.abort()

    # --- aiosmtpd's handler hooks: translate to the methods above -------------------

    async def handle_EHLO(self, server, session, envelope, hostname: str, responses: list[str]) -> list[str]:
        result = await self.helo(hostname, extended=True)
        if result.startswith("250"):
            session.host_name = hostname
        return [result]

    async def handle_HELO(self, server, session, envelope, hostname: str) -> str:
        result = await self.helo(hostname, extended=False)
        if result.startswith("250"):
            session.host_name = hostname
        return result  # type: ignore[return-value]

    async def handle_MAIL(self, server, session, envelope, address: str, options: list[str]) -> str:
        sender = "" if address == "<>" else address
        reply = await self.mail(sender, options + self.dsn_options)
        if reply.startswith("2"):
            envelope.mail_from = address
            envelope.mail_options.extend(options)
        return reply

    async def handle_RCPT(self, server, session, envelope, address: str, options: list[str]) -> str:
        reply = await self.rcpt(address, options + self.dsn_options)
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_RSET(self, server, session, envelope) -> str:
        await self.abort()
        return replies.OK

    async def handle_exception(self, error: Exception) -> str:
        maillog.error(self.settings.service, "%s: unexpected error: %r", self.session.client, error, exc_info=True)
        await self.abort()
        return "451 4.3.0 Error: internal error, try again later"

    async def handle_QUIT(self, server, session, envelope) -> str:
        await self.abort()
        return replies.BYE
