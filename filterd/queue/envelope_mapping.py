"""The envelope as Postfix's cleanup writes it into a queue file: the sender and each recipient in canonical form
(trivial-rewrite's local rewrite), MAILER-DAEMON@$myorigin as the null sender, the canonical maps, each recipient
virtual-aliased (one to many, duplicates dropped per ORCPT and NOTIFY), the automatic blind copies in cleanup's places
(the sender's first, a recipient's after it, always_bcc's last); each recipient kept with the address as received.
For relay mode's queue (filterd.nexthop.queue) and local submissions taken from maildrop (the queue manager's
pickup)."""

from __future__ import annotations

from dataclasses import dataclass

from filterd.addresses import AddressRules, quote_local, unquote_local
from filterd.automatic_bcc import AutomaticBcc
from filterd.canonical import CanonicalMaps
from filterd.queue.queuefile import Recipient
from filterd.virtual_alias import VirtualAliases


@dataclass(frozen=True)
class Given:
    """A recipient as the client gave it (external form), with its DSN ORCPT and NOTIFY."""

    address: str
    orcpt: str = ""
    notify: str = ""


@dataclass(frozen=True)
class EnvelopeMapping:
    rules: AddressRules | None = None
    canonical: CanonicalMaps | None = None
    aliases: VirtualAliases | None = None
    """None where receive_override_options has no_address_mappings (as `canonical` and `bcc`)."""
    bcc: AutomaticBcc | None = None

    def canonical_form(self, address: str) -> str:
        """The address (external form) as trivial-rewrite rewrites it in the local context (@$myorigin appended, a
        source route cut, a bang path or percent hack turned into user@domain, a trailing dot gone); null stays
        null."""
        if self.rules is None or not address:
            return address
        return quote_local(self.rules.rewrite(unquote_local(address)))

    def sender(self, address: str, queue_id: str) -> str:
        """The envelope sender as cleanup queues it."""
        sender = self.canonical_form(address)
        if self.rules is not None and sender.lower() == f"mailer-daemon@{self.rules.myorigin.lower()}":
            return ""
        if self.canonical and sender:
            return quote_local(self.canonical.envelope_sender(unquote_local(sender), queue_id))
        return sender

    def delivered(self, address: str) -> str:
        """The address the queue manager delivers to: canonical, then as trivial-rewrite resolves it (a local
        domain stripped from a sender-routed address, a quoted local part opened), as qmgr updates its recipient."""
        if self.rules is None:
            return address
        canonical = unquote_local(self.canonical_form(address))
        resolution = self.rules.resolve(canonical)
        return quote_local(canonical if resolution.error else resolution.recipient)

    def recipients(self, sender: str, given: list[Given], queue_id: str) -> list[Recipient]:
        """The queue file's recipients for the (queued) sender and the recipients given; ExpansionError when an
        alias expansion passes a limit."""
        recipients: list[Recipient] = []

        def add(one: Given, bcc: bool = False) -> None:
            clean, expanded = self._recipient(one, queue_id, bcc)
            recipients.extend(r for r in expanded if r not in recipients)
            if self.bcc and not bcc and (copy := self.bcc.for_recipient(clean)):
                add(Given(quote_local(copy)), bcc=True)

        if self.bcc and (copy := self.bcc.for_sender(unquote_local(sender))):
            add(Given(quote_local(copy)), bcc=True)
        for one in given:
            add(one)
        if self.bcc and self.bcc.always:
            add(Given(self.bcc.always), bcc=True)
        return recipients

    def _recipient(self, given: Given, queue_id: str, bcc: bool) -> tuple[str, list[Recipient]]:
        """The address after the canonical maps (internal), and the queue recipients it becomes, with the address as
        received (a blind copy's as canonical-mapped) where that differs."""
        address = given.address
        received = quote_local(unquote_local(address))
        expanded = [self.canonical_form(address)]
        if self.canonical and address:
            expanded = [quote_local(self.canonical.envelope_recipient(unquote_local(expanded[0]), queue_id))]
        clean = unquote_local(expanded[0])
        received = expanded[0] if bcc else received
        if self.aliases and address:
            expanded = [quote_local(a) for a in self.aliases.expand(clean, queue_id)]
        return clean, [Recipient(d, orcpt=given.orcpt, notify=given.notify, orig=received if d != received else "")
                       for d in map(self.delivered, expanded)]
