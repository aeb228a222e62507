"""Relay mode's next hop: the durable queue. 250 only once the queue file is fsynced and renamed.

Who may relay where is not decided here: the restrictions plugin (filterd.policies.restrictions, which relay mode
always runs) applies smtpd_relay_restrictions before a recipient reaches the next hop.
"""

from __future__ import annotations

import asyncio
import dataclasses

from filterd import maillog
from filterd.addresses import AddressRules
from filterd.handoff import CutShort, Reply, Routing
from filterd.header_rewrite import rewrite_headers
from filterd.missing_headers import MissingHeaders
from filterd.model import Envelope, Message, Session
from filterd.queue import postfix_size
from filterd.queue.queuefile import QueueEnvelope, Recipient
from filterd.queue.spool import QueueFull, Spool
from filterd.automatic_bcc import AutomaticBcc
from filterd.canonical import CanonicalMaps
from filterd.queue.envelope_mapping import EnvelopeMapping, Given
from filterd.virtual_alias import ExpansionError, VirtualAliases
from filterd.xtext import xtext

STORAGE_FULL = Reply(452, "4.3.1 Insufficient system storage")
ALIAS_EXPANSION_ERROR = Reply(451, "4.6.0 Alias expansion error")
TOO_BIG = Reply(552, "5.3.4 Error: message file too big")


WRITTEN_IN_LOOP = 262144
"""A message up to this size is written into its queue file by the worker's event loop, only the fsyncs in a
thread (a few hundred microseconds of writes into the page cache at most); a larger one wholly in the thread."""
FLOW_RECOUNT = 0.2
"""How long a count of the incoming queue stands for in_flow_delay (Spool.count)."""

class QueueNextHop:
    """Stores each accepted message in the incoming (or hold) queue, stamped with content_filter unless a FILTER
    action chose another filter (as Postfix's cleanup does); a reinject listener's messages are marked `filtered`,
    back from a filter, so that the after-queue stage never runs on them. A message whose queue file in Postfix
    would pass message_size_limit (`size_limit`, its envelope counted) is refused as Postfix's cleanup refuses it.
    The envelope is cleanup's (filterd.envelope_mapping: canonical form, `canonical` maps, `aliases`, the automatic
    blind copies `bcc`); the headers message_drop_headers names are removed and a local client's address headers
    rewritten (filterd.header_rewrite)."""

    relay = "queue"
    logs_delivery = False

    def __init__(self, spool: Spool, flow_limit: int = 0, flow_delay: float = 0.0,
                 missing: MissingHeaders | None = None, content_filter: str = "", filtered: bool = False,
                 rules: AddressRules | None = None, size_limit: int = 0, aliases: VirtualAliases | None = None,
                 canonical: CanonicalMaps | None = None, bcc: AutomaticBcc | None = None,
                 drop_headers: frozenset[str] = frozenset()):
        self.spool, self.missing, self.rules, self.size_limit = spool, missing, rules, size_limit
        self.canonical, self.drop_headers = canonical, drop_headers
        self.mapping = EnvelopeMapping(rules, canonical, aliases, bcc)
        self._remote_rules = (dataclasses.replace(rules, myorigin=missing.remote_domain)
                              if rules is not None and missing is not None and missing.remote_domain else None)
        """The remote rewriting context (remote_header_rewrite_domain for $myorigin), None without one."""
        self.content_filter, self.filtered = content_filter, filtered
        self.flow_limit, self.flow_delay = flow_limit, flow_delay
        self._session: Session | None = None
        self._envelope: Envelope | None = None

    async def begin(self, session: Session, envelope: Envelope) -> Reply:
        self._session, self._envelope = session, envelope
        return Reply(250, "2.1.0 Ok")

    async def recipient(self, address: str, options: list[str]) -> Reply:
        return Reply(250, "2.1.5 Ok")

    async def restart(self, sender: str, recipients: tuple[str, ...]) -> Reply:
        return Reply(250, "2.1.5 Ok")

    async def deliver(self, message: Message, routing: Routing | None = None) -> Reply:
        routing = routing or Routing()
        headers = list(message.headers)
        if self.drop_headers:
            message.headers[:] = [h for h in message.headers if h.name.lower() not in self.drop_headers]
        self._rewrite_headers(message)
        added = self._add_missing_headers(message)
        try:
            envelope = self._queue_envelope(message, routing)
        except ExpansionError as exc:
            maillog.warning("cleanup", "%s", exc)
            return ALIAS_EXPANSION_ERROR
        if self._too_big(envelope, message):
            self._log_too_big(envelope.queue_id)
            return TOO_BIG
        await self._in_flow_delay()
        queue = "hold" if routing.hold else "incoming"
        try:
            if message.size <= WRITTEN_IN_LOOP:
                await asyncio.to_thread(self.spool.commit, self.spool.write_new(queue, envelope, message.chunks()))
            else:
                await asyncio.to_thread(self.spool.store, queue, envelope, message.chunks())
        except QueueFull as exc:
            maillog.warning("cleanup", "%s: queue file write error: %s", envelope.queue_id, exc)
            return STORAGE_FULL
        for line in message_id_lines(headers, added):
            maillog.info("cleanup", "%s: %s", envelope.queue_id, line)
        return Reply(250, f"2.0.0 Ok: queued as {envelope.queue_id}")

    async def abort(self, cut: CutShort | None = None) -> None:
        """A client that hung up inside DATA: the ids that Postfix's cleanup had logged by then are logged."""
        env, self._envelope = self._envelope, None
        if cut is None or env is None or not env.queue_id:
            return
        added = ""
        if cut.header_done and self._adds_missing_headers():
            added = self.missing.missing_id(list(cut.headers), env.queue_id)
        for line in message_id_lines(cut.headers, added, cut.header_done):
            maillog.info("cleanup", "%s: %s", env.queue_id, line)
        if cut.too_big:
            self._log_too_big(env.queue_id)

    @staticmethod
    def _log_too_big(queue_id: str) -> None:
        """cleanup's lines for a queue file that met its size limit."""
        maillog.warning("cleanup", "%s: queue file size limit exceeded", queue_id)
        maillog.warning("cleanup", "mail_stream_cleanup: close error")

    def _too_big(self, envelope: QueueEnvelope, message: Message) -> bool:
        session = self._session
        if not self.size_limit or session is None:
            return False
        local = self.missing is not None and self.missing.rewrites(session.client_address)
        return postfix_size.exceeds(self.size_limit, postfix_size.envelope_size(envelope, session, local), message)

    def _adds_missing_headers(self) -> bool:
        session = self._session
        return self.missing is not None and session is not None and self.missing.applies(session.client_address)

    def _rewrite_headers(self, message: Message) -> None:
        """The address headers as cleanup rewrites them: in the local context for a client in
        local_header_rewrite_clients, else in the remote one when remote_header_rewrite_domain names a domain."""
        session, env = self._session, self._envelope
        if self.missing is None or session is None or env is None or self.rules is None:
            return
        rules = self.rules if self.missing.rewrites(session.client_address) else self._remote_rules
        if rules is not None:
            rewrite_headers(message.headers, rules, self.canonical, env.queue_id)

    def _add_missing_headers(self, message: Message) -> str:
        env = self._envelope
        if env is None or not self._adds_missing_headers():
            return ""
        return self.missing.add(message, self.mapping.canonical_form(env.sender), env.queue_id)

    def _queue_envelope(self, message: Message, routing: Routing) -> QueueEnvelope:
        env, session = self._envelope, self._session
        assert env is not None and session is not None
        options = {o.split("=", 1)[0].upper(): o.partition("=")[2] for o in env.mail_options}
        sender = self.mapping.sender(env.sender, env.queue_id)
        return QueueEnvelope(
            queue_id=env.queue_id, sender=sender, arrival=env.arrival, size=message.size,
            recipients=self._recipients(sender, _queued_recipients(env, routing)),
            body_type=options.get("BODY", ""),
            smtputf8="SMTPUTF8" in options, ret=options.get("RET", ""), envid=options.get("ENVID", ""),
            client=f"{session.client_name}[{session.client_address}]", helo=session.helo, protocol=session.protocol,
            redirect=self.mapping.delivered(routing.redirect) if routing.redirect else "", bcc=list(routing.bcc),
            filter=routing.filter or self.content_filter,
            filtered=self.filtered,
            hold_reason=routing.hold or "", message_id=message.get("Message-ID") or "")

    def _recipients(self, sender: str, addresses: list[str]) -> list[Recipient]:
        env = self._envelope
        assert env is not None
        given = []
        for address in addresses:
            found = {o.split("=", 1)[0].upper(): o.partition("=")[2] for o in env.rcpt_options.get(address, [])}
            orcpt = found.get("ORCPT") or (made_up_orcpt(address) if address in env.rcpt_options else "")
            given.append(Given(address, orcpt, found.get("NOTIFY", "").upper()))
        return self.mapping.recipients(sender, given, env.queue_id)

    async def _in_flow_delay(self) -> None:
        """Slow acceptance down while the queue manager is behind (Postfix's in_flow_delay)."""
        if self.flow_limit and self.flow_delay and self.spool.count("incoming", FLOW_RECOUNT) > self.flow_limit:
            await asyncio.sleep(self.flow_delay)


def made_up_orcpt(address: str) -> str:
    """The ORCPT Postfix's smtpd records for a recipient the client gave none for (RFC 3461 5.2.1 lets a relay add
    one): `rfc822;` and the address as the client gave it, xtext-encoded; it is relayed to a next hop that speaks
    DSN and named in DSNs' Original-Recipient. A recipient the client did not give (a BCC) has none."""
    return "rfc822;" + xtext(address)


def message_id_lines(headers, added: str = "", header_done: bool = True) -> list[str]:
    """What Postfix's cleanup logs of a message's ids: each Message-ID and Resent-Message-ID as its header is
    processed; once the header section is done, the id it added (`added`), then `message-id=<>` if there is
    still no Message-ID (cleanup_message.c)."""
    lines, seen = [], False
    for header in headers:
        name = header.name.lower()
        if name in ("message-id", "resent-message-id"):
            lines.append(f"{name}={header.value}")
            seen = seen or name == "message-id"
    if header_done:
        lines += [added] if added else []
        if not (seen or added.startswith("message-id=")):
            lines.append("message-id=<>")
    return lines


def _queued_recipients(env: Envelope, routing: Routing) -> list[str]:
    """Under a REDIRECT, the recipients as received (and those a BCC added): as Postfix's cleanup, the queue file
    keeps them beside the redirect, which the queue manager applies (filterd.qmgr.redirect)."""
    if not routing.redirect or not env.rcpt_options:
        return list(env.recipients)
    received = list(env.rcpt_options)
    return received + [r for r in env.recipients if r not in received and r != routing.redirect]

