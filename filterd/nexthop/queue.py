"""Relay mode's next hop: the durable queue. 250 only once the queue file is fsynced and renamed.

Never an open relay: until access policies land, recipients are accepted from clients in
mynetworks, and otherwise only for $mydestination (Postfix's default smtpd_relay_restrictions:
permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination), the address resolved as Postfix's
trivial-rewrite does (filterd.addresses), and "postmaster" always (RFC 5321 section 4.5.1).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from filterd import maillog
from filterd.addresses import LOCAL, AddressRules, unquote_local
from filterd.handoff import Reply, Routing
from filterd.missing_headers import MissingHeaders
from filterd.model import Envelope, Message, Session
from filterd.network import in_networks, networks
from filterd.queue.queuefile import QueueEnvelope, Recipient
from filterd.queue.spool import QueueFull, Spool

STORAGE_FULL = Reply(452, "4.3.1 Insufficient system storage")


@dataclass(frozen=True)
class RelayPolicy:
    """Who may relay where: Postfix's permit_mynetworks, then defer_unauth_destination, which refuses a
    recipient that does not resolve to a local domain, or does so only through sender-specified routing."""

    mynetworks: tuple
    rules: AddressRules
    allow_untrusted_routing: bool = False

    @classmethod
    def from_config(cls, config) -> RelayPolicy:
        return cls(networks(config.list("mynetworks")), AddressRules.from_config(config),
                   config.bool("allow_untrusted_routing"))

    def allows(self, client_address: str, recipient: str) -> bool:
        """Whether the client may send to this recipient (external form, as the SMTP server passes it)."""
        internal = unquote_local(recipient)
        if internal.lower() == "postmaster" or in_networks(client_address, self.mynetworks):
            return True
        resolution = self.rules.resolve(self.rules.rewrite(internal))
        if resolution.routed and not self.allow_untrusted_routing:
            return False
        return resolution.address_class == LOCAL


def log_rcpt_reject(session: Session, envelope: Envelope | None, address: str, reply: Reply) -> None:
    """smtpd's `NOQUEUE: reject: RCPT from C: REPLY; from=<S> to=<R> proto=P helo=<H>` for a refused recipient."""
    queue_id = envelope.queue_id if envelope and envelope.queue_id else "NOQUEUE"
    sender = f"from=<{envelope.sender}> " if envelope and envelope.sender is not None else ""
    helo = f" helo=<{session.helo}>" if session.helo else ""
    maillog.info("smtpd", "%s: reject: RCPT from %s: %s %s; %sto=<%s> proto=%s%s", queue_id, session.client,
                 reply.code, reply.text, sender, address, session.protocol, helo)


class QueueNextHop:
    """Stores each accepted message in the incoming (or hold) queue, stamped with content_filter unless a FILTER
    action chose another filter (as Postfix's cleanup does); a reinject listener's messages are marked `filtered`,
    back from a filter, so that the after-queue stage never runs on them."""

    relay = "queue"
    logs_delivery = False

    def __init__(self, spool: Spool, policy: RelayPolicy, flow_limit: int = 0, flow_delay: float = 0.0,
                 missing: MissingHeaders | None = None, content_filter: str = "", filtered: bool = False):
        self.spool, self.policy, self.missing = spool, policy, missing
        self.content_filter, self.filtered = content_filter, filtered
        self.flow_limit, self.flow_delay = flow_limit, flow_delay
        self._session: Session | None = None
        self._envelope: Envelope | None = None

    async def begin(self, session: Session, envelope: Envelope) -> Reply:
        self._session, self._envelope = session, envelope
        return Reply(250, "2.1.0 Ok")

    async def recipient(self, address: str, options: list[str]) -> Reply:
        assert self._session is not None
        if not self.policy.allows(self._session.client_address, address):
            reply = Reply(454, f"4.7.1 <{unquote_local(address)}>: Relay access denied")
            log_rcpt_reject(self._session, self._envelope, unquote_local(address), reply)
            return reply
        return Reply(250, "2.1.5 Ok")

    async def restart(self, sender: str, recipients: tuple[str, ...]) -> Reply:
        return Reply(250, "2.1.5 Ok")

    async def deliver(self, message: Message, routing: Routing | None = None) -> Reply:
        routing = routing or Routing()
        added = self._add_missing_headers(message)
        envelope = self._queue_envelope(message, routing)
        await self._in_flow_delay()
        queue = "hold" if routing.hold else "incoming"
        try:
            await asyncio.to_thread(self.spool.store, queue, envelope, message.chunks())
        except QueueFull as exc:
            maillog.warning("cleanup", "%s: queue file write error: %s", envelope.queue_id, exc)
            return STORAGE_FULL
        if envelope.message_id and not added.startswith("resent-"):
            maillog.info("cleanup", "%s: message-id=%s", envelope.queue_id, envelope.message_id)
        elif added:
            maillog.info("cleanup", "%s: %s", envelope.queue_id, added)
        return Reply(250, f"2.0.0 Ok: queued as {envelope.queue_id}")

    async def abort(self) -> None:
        self._envelope = None

    def _add_missing_headers(self, message: Message) -> str:
        env, session = self._envelope, self._session
        if self.missing is None or env is None or session is None or not self.missing.applies(session.client_address):
            return ""
        return self.missing.add(message, env.sender, env.queue_id)

    def _queue_envelope(self, message: Message, routing: Routing) -> QueueEnvelope:
        env, session = self._envelope, self._session
        assert env is not None and session is not None
        options = {o.split("=", 1)[0].upper(): o.partition("=")[2] for o in env.mail_options}
        return QueueEnvelope(
            queue_id=env.queue_id, sender=env.sender, arrival=env.arrival, size=message.size,
            recipients=[_recipient(r, env.rcpt_options.get(r, [])) for r in env.recipients],
            body_type=options.get("BODY", ""),
            smtputf8="SMTPUTF8" in options, ret=options.get("RET", ""), envid=options.get("ENVID", ""),
            client=session.client, helo=session.helo, protocol=session.protocol,
            redirect=routing.redirect or "", bcc=list(routing.bcc), filter=routing.filter or self.content_filter,
            filtered=self.filtered,
            hold_reason=routing.hold or "", message_id=message.get("Message-ID") or "")

    async def _in_flow_delay(self) -> None:
        """Slow acceptance down while the queue manager is behind (Postfix's in_flow_delay)."""
        if self.flow_limit and self.flow_delay and _count(self.spool, "incoming") > self.flow_limit:
            await asyncio.sleep(self.flow_delay)


def _recipient(address: str, options: list[str]) -> Recipient:
    """A queue recipient with its RFC 3461 NOTIFY and ORCPT."""
    found = {o.split("=", 1)[0].upper(): o.partition("=")[2] for o in options}
    return Recipient(address, orcpt=found.get("ORCPT", ""), notify=found.get("NOTIFY", "").upper())


def _count(spool: Spool, queue: str) -> int:
    try:
        return sum(1 for _ in os.scandir(spool.root / queue))
    except FileNotFoundError:
        return 0
