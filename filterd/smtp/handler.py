"""The SMTP transaction: each SMTP event goes through the chain, then to the next hop.

Data flows one way: aiosmtpd's dialogue -> Session/Envelope/Message -> chain -> verdict -> next hop.
This module only translates verdicts and next-hop replies to SMTP replies; it decides nothing itself.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from typing import Awaitable, Callable

from filterd import maillog, queue_stage, reroute
from filterd.chain import Chain
from filterd.content import HEADER, ContentParser
from filterd.handoff import CutShort, NextHop, Reply, Routing
from filterd.lifecycle import Lifecycle, refuses, resolved
from filterd.maillog import seconds
from filterd.model import Message, Session
from filterd.queueid import new_queue_id
from filterd.received import received_header
from filterd.smtp import dsn, ehlo, etrn, replies, vrfy
from filterd.smtp.auth import SaslSession
from filterd.smtp.chunking import Chunking, RecordCounter, queued_reply
from filterd.smtp.datastream import REJECT, DataDecoder, DataState
from filterd.smtp.settings import SmtpSettings
from filterd.transaction import Transaction
from filterd.verdict import Action, Verdict


TOO_BIG = Verdict.reject("5.3.4 Error: message file too big", 552)


def verdict_reply(verdict: Verdict) -> str:
    code, dsn, text = verdict.reply()
    return replies.format_reply(code, dsn, text)


def sasl_fields(session: Session) -> str:
    """What Postfix's smtpd adds to the client= line for an authenticated client."""
    fields = [("sasl_method", session.sasl_method), ("sasl_username", session.sasl_username),
              ("sasl_sender", session.sasl_sender)]
    return "".join(f", {name}={value}" for name, value in fields if value)


CLIENT_ATTRIBUTES = ("client_address", "client_name", "client_port", "protocol", "helo")
"""XFORWARD's NAME, ADDR, PORT, PROTO and HELO: any of them makes Postfix log orig_client=."""


def forwarded_fields(session: Session) -> str:
    """What Postfix's smtpd adds to the client= line for an XFORWARD session: the MTA's queue id and the client it
    had the message from."""
    fields = f", orig_queue_id={session.forwarded_ident}" if session.forwarded_ident else ""
    real = session.xforwarded
    if real and any(real[name] != getattr(session, name) for name in CLIENT_ATTRIBUTES):
        fields += f", orig_client={session.client}"
    return fields


class SmtpHandler:
    """One per connection: SMTP commands as lifecycle events, its verdicts and the next hop's replies as SMTP replies."""

    def __init__(self, settings: SmtpSettings, chain: Chain, make_nexthop: Callable[[], NextHop],
                 flush_site: Callable[[str], Awaitable[object]] | None = None):
        self.settings = settings
        self.flush_site = flush_site
        """What ETRN does for an eligible destination besides its 250 (relay mode: its deferred mail is due now)."""
        self.chain = chain
        self.make_nexthop = make_nexthop
        self.session = Session(daemon_name=settings.service, port_logging=settings.client_port_logging)
        self.life = Lifecycle(chain, self.session, settings.service)
        self.sasl = SaslSession(settings.sasl, self.session, settings.service) if settings.sasl else None
        self.nexthop: NextHop | None = None
        self.overshoot, self.error_exempt = 0, False
        self.parser: ContentParser | None = None
        self.decoder: DataDecoder | None = None
        self.dsn_options: list[str] = []
        self.chunking = Chunking(settings.message_size_limit)
        self.logged_discards: frozenset[str] = settings.ehlo_discards
        """The EHLO keywords smtpd_discard_ehlo_keywords (or its address maps) take from this client."""
        self.discarded: frozenset[str] = self._without_smtputf8(settings.ehlo_discards)
        """The EHLO keywords this client does not get: those, and SMTPUTF8 without smtputf8_enable."""

    @property
    def txn(self) -> Transaction | None:
        """The mail transaction in progress."""
        return self.life.txn

    # --- connection --------------------------------------------------------

    async def on_connect(self) -> None:
        maillog.info(self.settings.service, "connect from %s", self.session.client)
        await self._connect()

    async def _connect(self, command: str = "") -> None:
        """The client's EHLO keywords, then the connect hook (`command`: XCLIENT, for a simulated client)."""
        self.logged_discards = self.settings.discarded(self.session.client_address)
        self.discarded = self._without_smtputf8(self.logged_discards)
        await resolved(self.life.connect(command))

    async def restart(self, simulate: Callable[[], None]) -> None:
        """XCLIENT: the session ends for the plugins (their disconnect hook: milters close) and begins again as the
        client `simulate` makes it, from the connect hook on; no `connect from` line, as in Postfix."""
        await self.abort()
        await resolved(self.life.disconnect())
        simulate()
        self.life = Lifecycle(self.chain, self.session, self.settings.service)
        await self._connect("XCLIENT")

    def _without_smtputf8(self, discards: frozenset[str]) -> frozenset[str]:
        return discards if self.settings.smtputf8 else discards | {"SMTPUTF8"}

    async def on_disconnect(self, summary: str) -> None:
        await self.abort(self._cut_short())
        await resolved(self.life.disconnect())
        maillog.info(self.settings.service, "disconnect from %s %s", self.session.client, summary)

    # --- HELO / EHLO ---------------------------------------------------------

    async def helo(self, hostname: str, extended: bool) -> str:
        await self.abort()
        verdict = await resolved(self.life.helo(hostname, extended))
        if verdict.final:
            return verdict_reply(verdict)
        if not extended:
            return f"250 {self.settings.myhostname}"
        notice = ehlo.discard_notice(self.logged_discards)
        if notice:
            maillog.info(self.settings.service, "%s", notice)
        return Reply(250, "\n".join(ehlo.ehlo_lines(self.settings.myhostname, self._offer(), self.discarded))).wire()

    def _offer(self) -> ehlo.Offer:
        settings = self.settings
        return ehlo.Offer(settings.message_size_limit, vrfy=not settings.disable_vrfy_command,
                          starttls=settings.tls.offered and not self.session.tls,
                          auth=tuple(self.sasl.ehlo_lines()) if self.sasl and not self._sasl_exception() else (),
                          xforward=settings.xforward_allowed(self.session.client_address),
                          xclient=settings.xclient_allowed(self.session.client_name, self.session.client_address))

    def _sasl_exception(self) -> bool:
        """smtpd_sasl_exceptions_networks: a client EHLO offers no AUTH to (AUTH itself still works, as in Postfix)."""
        real = self.session.unforwarded()
        return self.settings.sasl_exceptions.matches(real.client_name, real.client_address)

    # --- VRFY / ETRN ---------------------------------------------------------

    async def vrfy(self, argument: str | None) -> str:
        """VRFY: Postfix's syntax checks, then the chain's vrfy hook (the recipient restrictions) on the address."""
        if self.settings.disable_vrfy_command:
            return vrfy.DISABLED
        request = vrfy.read_request(argument, self.settings.addresses, "SMTPUTF8" not in self.discarded)
        if request is None:
            return vrfy.SYNTAX if self.settings.smtputf8 else vrfy.SYNTAX.removesuffix(" [SMTPUTF8]")
        if request.address is None:
            maillog.warning(self.settings.service, "Illegal address syntax from %s in VRFY command: %s",
                            self.session.client, request.printable())
            return vrfy.BAD_ADDRESS
        verdict = await resolved(self.life.vrfy(request.address))
        return verdict_reply(verdict) if refuses(verdict) else request.verified()

    async def etrn(self, argument: str | None) -> str:
        """ETRN: Postfix's checks, the chain's etrn hook, then fast_flush_domains; in relay mode the destination's
        deferred mail is due now."""
        site, refusal = etrn.site_or_refusal(argument, self.txn is not None)
        if refusal:
            return refusal
        verdict = await resolved(self.life.etrn(site))
        if refuses(verdict):
            return verdict_reply(verdict)
        if not etrn.eligible(site, self.settings.flush_domains):
            maillog.warning(self.settings.service, "%s from %s", etrn.refusal_notice(site), self.session.client)
            return etrn.UNAVAILABLE.format(site=site)
        try:
            if self.flush_site is not None:
                await self.flush_site(site)
        except OSError:
            maillog.warning(self.settings.service, "%s", etrn.FLUSH_FAILED)
            return etrn.CANNOT_QUEUE
        return etrn.STARTED

    # --- MAIL / RCPT -----------------------------------------------------------

    async def mail(self, sender: str, options: list[str]) -> str:
        await self.abort()
        self.overshoot = 0
        verdict = await resolved(self.life.mail(sender, options))
        if refuses(verdict):
            return verdict_reply(verdict)
        self.nexthop = self.make_nexthop()
        reply = await self.nexthop.begin(self.session, self.life.txn.envelope)
        if not reply.ok:
            await self.abort()
        elif not self.settings.delay_open:
            self._open_queue_file(self.life.txn.envelope)
        return reply.wire()

    async def rcpt(self, recipient: str, options: list[str]) -> str:
        txn, nexthop = self.txn, self.nexthop
        if txn is None or nexthop is None:
            return "503 5.5.1 Error: need MAIL command"
        if len(txn.envelope.recipients) >= self.settings.recipient_limit:
            self.overshoot += 1
            self.error_exempt = self.overshoot <= self.settings.recipient_overshoot_limit
            return replies.TOO_MANY_RCPTS
        verdict = await resolved(self.life.rcpt(recipient))
        if refuses(verdict):
            return verdict_reply(verdict)
        reply = await nexthop.recipient(recipient, options)
        if reply.ok:
            self._accept_recipient(txn, recipient, options)
        return reply.wire()

    def _accept_recipient(self, txn: Transaction, recipient: str, options: list[str]) -> None:
        self._open_queue_file(txn.envelope)
        self.life.add_recipient(recipient, options)

    def _open_queue_file(self, envelope) -> None:
        """The transaction's queue id, with smtpd's `client=` line: at the first valid recipient, or at MAIL with
        smtpd_delay_open_until_valid_rcpt = no, when Postfix's smtpd opens its queue file."""
        if not envelope.queue_id:
            envelope.queue_id = new_queue_id()
            maillog.info(self.settings.service, "%s: client=%s%s%s", envelope.queue_id,
                         self.session.unforwarded().client, sasl_fields(self.session), forwarded_fields(self.session))

    # --- DATA ------------------------------------------------------------------

    async def start_data(self) -> str | None:
        """Checks before 354; None means go ahead."""
        return self.recipients_refusal() or await self.data_refusal() or await self.open_content()

    def recipients_refusal(self) -> str | None:
        """DATA or a first BDAT chunk without recipients, in Postfix's words: without a transaction it needs RCPT,
        within one (recipients refused, or none sent) none is valid."""
        if self.txn is None:
            return replies.NEED_RCPT
        return None if self.txn.envelope.recipients else replies.NO_RCPTS

    async def data_refusal(self) -> str | None:
        """The chain's verdict on DATA (or on a transaction's first BDAT chunk): the refusal, the transaction ended."""
        verdict = await resolved(self.life.data())
        if refuses(verdict):
            await self.abort()
            return verdict_reply(verdict)
        return None

    async def open_content(self, chunked: bool = False) -> None:
        """The message begins (with filterd's Received header); BDAT's chunks come without dot-stuffing, and
        their size limit is Postfix's count (filterd.smtp.chunking), not the decoder's."""
        assert self.txn is not None
        self._open_content(self.txn, chunked)
        await resolved(self.life.content([(HEADER, self.parser.headers[0])]))

    def _open_content(self, txn: Transaction, chunked: bool) -> None:
        spool = tempfile.SpooledTemporaryFile(max_size=self.settings.spool_memory_limit,
                                              dir=self.settings.spool_directory)
        self.parser = ContentParser(spool, self.settings.header_size_limit, self.chain.wants("body"))
        authenticated_header = bool(self.settings.sasl and self.settings.sasl.authenticated_header)
        self.parser.headers.append(received_header(self.session.unforwarded(), txn.envelope, self.settings.myhostname,
                                                   tls_details=self.settings.tls.received_header,
                                                   authenticated_header=authenticated_header))
        self.decoder = DataDecoder(0 if chunked else self.settings.message_size_limit,
                                   self.settings.bare_newline_mode(self.session.client_address), not chunked)
        txn.message = Message(self.parser.headers, spool)

    async def content(self, piece: bytes) -> None:
        """DATA as read from the socket: a piece, or several whole lines."""
        assert self.decoder is not None
        await self._parse(self.decoder.feed_lines(piece))

    async def _parse(self, data: bytes) -> None:
        """Content into the parser a line at a time, the chain given its events; once the headers are done, in bulk
        when no plugin wants body lines."""
        parser, start = self.parser, 0
        assert parser is not None
        while start < len(data):
            if not (parser.in_headers or parser.want_body_events):
                parser.feed_body(data[start:] if start else data)
                return
            end = data.find(b"\n", start) + 1 or len(data)
            events = parser.feed_line(data[start:end])
            start = end
            if events:
                pending = self.life.content(events)
                if pending is not None:
                    await pending

    def data_state(self) -> DataState:
        assert self.decoder is not None
        return self.decoder.state

    def content_refused(self, chunks: RecordCounter | None = None) -> bool:
        """Whether the message is already refused (too big, a refused bare LF): a chunk before BDAT LAST is answered
        with the refusal at once."""
        return self._refusal(self.data_state(), chunks) is not None

    async def end_of_data(self, chunks: RecordCounter | None = None) -> str:
        """The client sent the end of data (or BDAT's last chunk, counted in `chunks`): decide, deliver, and give
        the client its reply."""
        assert self.txn is not None and self.parser is not None and self.txn.message is not None
        message, queue_id = self.txn.message, self.txn.envelope.queue_id
        try:
            if chunks is not None:
                await self._parse(self.decoder.end_of_chunks())
            refusal = self._refusal(self.data_state(), chunks)
            if refusal is TOO_BIG:
                await self._too_big(queue_id, chunks)
                return verdict_reply(refusal)
            if refusal is not None:
                self.life.refuse(refusal)
                await self.abort()
                return verdict_reply(refusal)
            txn = await resolved(self.life.end_of_message(self.parser.finish_events()))
            if txn.final is not None:
                reply = await self._final(txn, txn.final)
            else:
                reply = await self._deliver(txn)
            return reply if chunks is None else queued_reply(reply, queue_id, chunks.size)
        finally:
            message.close()
            self.parser = self.decoder = None

    async def _too_big(self, queue_id: str, chunks: RecordCounter | None) -> None:
        """A message past message_size_limit: smtpd's warning (BDAT's was logged at the chunk that passed it) and
        no reject line, as Postfix logs it; the next hop told, for cleanup's lines."""
        if chunks is None:
            maillog.warning(self.settings.service, "%s: queue file size limit exceeded", queue_id or "NOQUEUE")
        cut = self._cut_short()
        self.life.refuse(TOO_BIG, logged=False)
        await self.abort(replace(cut, too_big=True) if cut is not None else None)

    def _refusal(self, state: DataState, chunks: RecordCounter | None = None) -> Verdict | None:
        """The message refused before the chain decides: too big, or bare newlines where they are refused."""
        if state.too_big or (chunks is not None and chunks.too_big):
            return TOO_BIG
        if state.bare_newline and self.decoder and self.decoder.bare_newline_mode == REJECT:
            return Verdict.reject(replies.BARE_LF.format(code=self.settings.bare_newline_reject_code,
                                                         host=self.settings.myhostname))
        return None

    async def _final(self, txn: Transaction, verdict: Verdict) -> str:
        await self.abort()
        if verdict.action is Action.DISCARD:
            return f"250 2.0.0 Ok: queued as {txn.envelope.queue_id}"
        return verdict_reply(verdict)

    async def _deliver(self, txn: Transaction) -> str:
        nexthop, envelope = self.nexthop, txn.envelope
        assert nexthop is not None
        message, change = txn.apply_edits(), reroute.plan(txn)
        routing = Routing(txn.hold, txn.filter, txn.redirect, tuple(txn.bcc))
        if self.settings.queue_stage and self.chain.wants("queue"):
            after = await queue_stage.run(self.chain, txn, message)
            if after.verdict.final:
                return await self._final(txn, after.verdict)
            message, change, routing = after.txn.apply_edits(), after.plan, after.routing(routing)
        self.nexthop = None
        reply = await self._reroute(txn, change, nexthop)
        if reply is None:
            started = time.time()
            reply = await nexthop.deliver(message, routing)
            if nexthop.logs_delivery:
                self._log_delivery(txn, nexthop.relay, reply, started)
        if not reply.ok and nexthop.logs_delivery:
            maillog.info(self.settings.service, "%s: proxy-reject: END-OF-MESSAGE from %s: %s; %s",
                         envelope.queue_id, self.session.unforwarded().client, reply, txn.envelope_text())
        return reply.wire()

    async def _reroute(self, txn: Transaction, change: reroute.Plan, nexthop: NextHop) -> Reply | None:
        """REDIRECT, BCC and envelope edits, done in-session before DATA goes downstream."""
        envelope = txn.envelope
        if change.restart:
            reply = await nexthop.restart(change.sender, change.recipients)
            if not reply.ok:
                await nexthop.abort()
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

    def _cut_short(self) -> CutShort | None:
        """What the client had sent of a message it hung up inside, or None outside DATA."""
        if self.parser is None:
            return None
        headers, header_done = self.parser.settled()
        return CutShort(tuple(headers), header_done)

    async def abort(self, cut: CutShort | None = None) -> None:
        """End the transaction without delivering anything (RSET, reject, lost client: `cut` inside DATA)."""
        nexthop, self.nexthop = self.nexthop, None
        self.chunking.reset()
        self._close_content()
        self.life.abort()
        if nexthop is not None:
            await nexthop.abort(cut)

    def _close_content(self) -> None:
        """A message still open when its transaction ends unfinished (BDAT's chunks skipped after an error)."""
        if self.txn is not None and self.txn.message is not None and self.parser is not None:
            self.txn.message.close()
        self.parser = self.decoder = None

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

    def _dsn_refusal(self) -> str | None:
        """Postfix's 501 for a DSN parameter: discarded with its EHLO keyword, or malformed."""
        if self.dsn_options and "DSN" in self.discarded:
            return dsn.DISABLED
        return dsn.refusal(self.dsn_options)

    async def handle_MAIL(self, server, session, envelope, address: str, options: list[str]) -> str:
        refused = self._dsn_refusal()
        if refused:
            return refused
        sender = "" if address == "<>" else address
        reply = await self.mail(sender, options + self.dsn_options)
        if reply.startswith("2"):
            envelope.mail_from = address
            envelope.mail_options.extend(options)
        return reply

    async def handle_RCPT(self, server, session, envelope, address: str, options: list[str]) -> str:
        refused = self._dsn_refusal()
        if refused:
            return refused
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
