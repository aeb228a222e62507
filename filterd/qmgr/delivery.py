"""Delivering one active message: recipients grouped by destination, each group in its destination's concurrency window
(filterd.qmgr.concurrency), logged per recipient."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field

from filterd import maillog
from filterd.address_keys import Delimiters
from filterd.maillog import seconds
from filterd.qmgr import maildir
from filterd.qmgr.concurrency import Scheduler
from filterd.qmgr.mail_exchangers import HostLookup, Why
from filterd.qmgr.routing import Destination, Router
from filterd.qmgr.sasl_client import SaslFailed
from filterd.qmgr.smtp_delivery import SmtpDelivery, Timing
from filterd.qmgr.virtual import VirtualMailboxes
from filterd.qmgr.xforward import XForward
from filterd.queue.queuefile import QueueFile, Recipient
from filterd.transport_maps import TransportMaps


NOT_DELIVERING = {"error": ("5.0.0", "bounced"), "retry": ("4.0.0", "deferred"), "discard": ("2.0.0", "sent")}
"""Postfix's error(8) (and its `retry` service) and discard(8): the transports that deliver nothing, their next hop
the reason (`error:5.1.1 Mailbox unavailable`), with this status when the reason names none."""
BACK_TO_BACK = 1.0
"""Deliveries to a destination this close (seconds) are back to back: Postfix's qmgr then lets the next one keep its
connection for the one after (smtp_connection_cache_on_demand)."""

@dataclass
class Attempt:
    """One delivery attempt of one message: when it became active, for the delays= field."""

    qf: QueueFile
    activated: float
    started: float = field(default_factory=time.time)
    first: bool = False
    """No recipient had been tried before: sendmail -v's report follows this attempt."""


@dataclass
class Deliverer:
    """The delivery agents and their limits."""

    router: Router
    smtp: SmtpDelivery
    mailbox_base: str
    recipient_limit: int = 50
    fallback_relay: tuple[str, ...] = ()
    lookup: HostLookup = HostLookup()
    address_limit: int = 5
    soft_bounce: bool = False
    cache_on_demand: bool = True
    cache_destinations: frozenset[str] = frozenset()
    xforward: XForward = XForward()
    delimiters: Delimiters = Delimiters()
    """recipient_delimiter: user+foo's mail goes to user's Maildir, as local(8) finds the user."""
    virtual: VirtualMailboxes = VirtualMailboxes()
    """The virtual transport's mailboxes (virtual_mailbox_maps under virtual_mailbox_base)."""
    scheduler: Scheduler = field(default_factory=Scheduler)
    """Postfix's destination concurrency scheduler: slow start, feedback, dead destinations."""
    _busy: dict[str, int] = field(default_factory=dict)
    _last_done: dict[str, float] = field(default_factory=dict)
    _caching: set[str] = field(default_factory=set)

    async def deliver(self, attempt: Attempt) -> list[Recipient]:
        """Try every pending recipient once; returns those whose status changed, each already recorded in the
        queue file the moment its delivery agent returned (see `_cross_off`)."""
        pending = attempt.qf.envelope.pending()
        for rcpt in pending:
            rcpt.status = rcpt.dsn = rcpt.text = rcpt.relay = ""
        groups: dict[Destination, list[Recipient]] = {}
        for rcpt in pending:
            destination = self.router.destination(rcpt.address, _filter(attempt.qf), attempt.qf.envelope.sender)
            groups.setdefault(destination, []).append(rcpt)
        jobs = [self._group(attempt, dest, rcpts[i:i + self.recipient_limit])
                for dest, rcpts in groups.items() for i in range(0, len(rcpts), self.recipient_limit)]
        await asyncio.gather(*jobs)
        return pending

    async def _group(self, attempt: Attempt, destination: Destination, rcpts: list[Recipient]) -> None:
        key = str(destination)
        slot = await self.scheduler.acquire(key)
        if slot is None:
            self._suspended(attempt, key, rcpts)
            return
        self._busy[key] = self._busy.get(key, 0) + 1
        site_failure = None
        try:
            if destination.transport == "local":
                await self._local(attempt, rcpts)
            elif destination.transport == "virtual":
                await self._virtual(attempt, rcpts)
            elif destination.transport in NOT_DELIVERING:
                self._not_delivered(attempt, destination, rcpts)
            else:
                site_failure = await self._smtp(attempt, destination, rcpts)
        finally:
            self._busy[key] -= 1
            self._last_done[key] = time.monotonic()
            self.scheduler.release(slot, site_failure)

    def _suspended(self, attempt: Attempt, key: str, rcpts: list[Recipient]) -> None:
        """A dead destination's recipients deferred untried, as Postfix's qmgr sends them to its retry transport
        (error(8), which logs them as `error`)."""
        status, reason = self.scheduler.suspended(key)
        for rcpt in rcpts:
            rcpt.status, rcpt.dsn, rcpt.text, rcpt.relay = "deferred", status, reason, "none"
        self._cross_off(attempt, rcpts)
        for rcpt in rcpts:
            log_recipient("error", attempt, rcpt, Timing())

    def flush_dead(self) -> None:
        """Try dead destinations again at once (the queue was flushed)."""
        self.scheduler.enable_all()

    async def stop(self) -> None:
        """QUIT the connections kept for reuse (the queue manager is stopping)."""
        await self.smtp.quit_all()

    def close(self) -> None:
        self.smtp.close()

    def _keep_connection(self, destination: Destination) -> bool:
        """Postfix's smtp_connection_cache_on_demand (see `_on_demand`) and smtp_connection_cache_destinations
        (always)."""
        return (self.cache_on_demand and self._on_demand(str(destination))
                or destination.nexthop.lower() in self.cache_destinations)

    def _on_demand(self, key: str) -> bool:
        """Postfix's qmgr_entry_select: caching turns on for a destination once its deliveries come back to back
        (the last one ended less than a second ago), and off again when they neither overlap nor follow closely."""
        back_to_back = self._last_done.get(key, -math.inf) + BACK_TO_BACK >= time.monotonic()
        if key not in self._caching:
            if back_to_back:
                self._caching.add(key)
        elif not (self._busy.get(key, 0) > 1 or back_to_back):
            self._caching.discard(key)
        return key in self._caching

    async def _local(self, attempt: Attempt, rcpts: list[Recipient]) -> None:
        for rcpt in rcpts:
            started = time.time()
            resolved = self.router.resolve(rcpt.address).recipient
            resolved = (self.delimiters.strip(resolved) or (resolved,))[0]
            await asyncio.to_thread(maildir.deliver, attempt.qf, rcpt, self.mailbox_base, resolved)
            self._cross_off(attempt, [rcpt])
            log_recipient("local", attempt, rcpt, Timing(0.0, time.time() - started))

    async def _virtual(self, attempt: Attempt, rcpts: list[Recipient]) -> None:
        for rcpt in rcpts:
            started = time.time()
            await asyncio.to_thread(self.virtual.deliver, attempt.qf, rcpt)
            self._cross_off(attempt, [rcpt])
            log_recipient("virtual", attempt, rcpt, Timing(0.0, time.time() - started))

    def _not_delivered(self, attempt: Attempt, destination: Destination, rcpts: list[Recipient]) -> None:
        """error, retry or discard: each recipient bounced, deferred or dropped as sent, the next hop as the reason
        (its DSN status first when it has one), logged under the transport's name with relay=none."""
        default, status = NOT_DELIVERING[destination.transport]
        dsn, text = TransportMaps.reason(destination.nexthop, default)
        for rcpt in rcpts:
            rcpt.status, rcpt.dsn, rcpt.text, rcpt.relay = status, dsn, text, "none"
        self._cross_off(attempt, rcpts)
        for rcpt in rcpts:
            log_recipient(destination.transport, attempt, rcpt, Timing())

    async def _smtp(self, attempt: Attempt, destination: Destination,
                    rcpts: list[Recipient]) -> tuple[str, str] | None:
        """Try the next hop's hosts, then the fallback relays'; what is left is deferred or bounced as Postfix's
        smtp_connect() does with the last problem met. At most smtp_mx_address_limit addresses are tried for each;
        DNS lookups and failed connections count as connection set-up (delays=a/b/c/d's c), as in Postfix."""
        why, started, service = Why(), time.monotonic(), smtp_service(destination.transport)
        sites = (destination.nexthop, *self.fallback_relay)
        for site in sites:
            found = await self.lookup.resolve(site)
            why = found.why
            for host in found.hosts[:self.address_limit or None]:
                setup = time.monotonic() - started
                try:
                    timing = await self.smtp.deliver(attempt.qf, rcpts, host, site, self._keep_connection(destination),
                                                     self.xforward.wanted(destination.transport),
                                                     lambda: self._cross_off(attempt, rcpts))
                except SaslFailed as exc:
                    why = Why(exc.dsn, exc.reason, f"{host[0]}[{host[1]}]:{host[2]}")
                    continue
                except ConnectionError as exc:
                    why = Why("4.4.1", f"connect to {host[0]}[{host[1]}]:{host[2]}: {exc}")
                    maillog.info(service, "%s", why.reason)
                    continue
                timing.connect += setup
                for rcpt in rcpts:
                    log_recipient(service, attempt, rcpt, timing)
                return None
        why = self._last_word(why, destination, len(sites) > 1)
        self._undeliverable(attempt, rcpts, why, Timing(time.monotonic() - started), service)
        return (why.status, why.reason) if why.soft else None

    def _last_word(self, why: Why, destination: Destination, ended_at_fallback: bool) -> Why:
        """A hard problem with the relayhost or a fallback relay is a configuration problem: defer (4.3.5)."""
        if not why.status:
            return Why("4.3.0", "server unavailable or unable to receive mail")
        if why.soft:
            return why
        if ended_at_fallback:
            problem = "smtp_fallback_relay"
        elif self.router.relayhost and destination.nexthop == self.router.relayhost:
            problem = "relayhost"
        else:
            return why
        maillog.warning(smtp_service(destination.transport), "%s configuration problem", problem)
        return Why("4.3.5", why.reason, why.relay)

    def _undeliverable(self, attempt: Attempt, rcpts: list[Recipient], why: Why, timing: Timing,
                       service: str = "smtp") -> None:
        status = "deferred" if why.soft else "bounced"
        for rcpt in rcpts:
            rcpt.status, rcpt.dsn, rcpt.text, rcpt.relay = status, why.status, why.reason, why.relay
        self._cross_off(attempt, rcpts)
        for rcpt in rcpts:
            log_recipient(service, attempt, rcpt, timing)

    def _cross_off(self, attempt: Attempt, rcpts: list[Recipient]) -> None:
        """Record what became of these recipients before anything else happens, as Postfix's delivery agents call
        deliver_completed() right after the next hop's 250: a kill between the reply and the record is all that
        can deliver a message twice, and this keeps that window to the code that runs on the reply."""
        self._soften(rcpts)
        attempt.qf.record_all(rcpts)

    def _soften(self, rcpts: list[Recipient]) -> None:
        """soft_bounce: what would bounce is deferred instead, as Postfix's delivery agents do."""
        if self.soft_bounce:
            for rcpt in rcpts:
                soften(rcpt)


def smtp_service(transport: str) -> str:
    """The name an SMTP delivery logs under: relay for the relay transport (Postfix's master.cf runs it with
    syslog_name=postfix/relay), smtp for the others (smtp(8) itself, as a content filter's transport is)."""
    return "relay" if transport == "relay" else "smtp"


def soften(rcpt: Recipient) -> None:
    """A bounced recipient as deferred, its 5.X.X status as 4.X.X."""
    if rcpt.status == "bounced":
        rcpt.status = "deferred"
        if rcpt.dsn.startswith("5"):
            rcpt.dsn = "4" + rcpt.dsn[1:]


def _filter(qf: QueueFile) -> str:
    """The content filter the message goes through: none once redirected, as "redirect overrides all else" in
    Postfix's qmgr_message_resolve."""
    return "" if qf.envelope.redirect else qf.envelope.filter


def orig_to(rcpt: Recipient) -> str:
    """`, orig_to=<R>` when the recipient as received differs from the one delivered to, case ignored (Postfix's
    log_adhoc); never the DSN ORCPT."""
    if rcpt.orig and rcpt.orig.casefold() != rcpt.address.casefold():
        return f", orig_to=<{rcpt.orig}>"
    return ""


def log_recipient(service: str, attempt: Attempt, rcpt: Recipient, timing: Timing, note: str = "") -> None:
    """`QID: to=<R>, orig_to=<O>, relay=..., delay=..., delays=a/b/c/d, dsn=..., status=... (text)`, as
    Postfix."""
    env, now = attempt.qf.envelope, time.time()
    before_qmgr = attempt.activated - env.arrival
    in_qmgr = attempt.started - attempt.activated
    status = rcpt.status + note
    maillog.info(service, "%s: to=<%s>%s, relay=%s, delay=%s, delays=%s/%s/%s/%s, dsn=%s, status=%s (%s)",
                 env.queue_id, rcpt.address, orig_to(rcpt), rcpt.relay or "none", seconds(now - env.arrival),
                 seconds(before_qmgr), seconds(in_qmgr), seconds(timing.connect), seconds(timing.transmit),
                 rcpt.dsn, status, rcpt.text)
