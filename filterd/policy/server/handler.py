"""filterd as a policy server, sans-IO: each request of one policy connection brings that connection's Lifecycle
up to the request's protocol_state and answers the chain's verdict as an access(5) action.

Postfix asks at whichever restriction lists name check_policy_service, often only smtpd_recipient_restrictions:
a RCPT request is then the first the server hears of a client. The handler runs the hooks the lifecycle has not
run yet, in order (connect, helo, mail_from, then rcpt), and answers the first final verdict, as Postfix's
smtpd_delay_reject reports a client or HELO refusal at RCPT. A refusal stays the answer for what it refuses:
the connect hook's for the session, the helo hook's for that HELO name, the mail_from hook's for the message.

Postfix reuses a connection for many clients and messages: a request from another client (client_address,
client_port) or a CONNECT ends the session the handler had (the disconnect hook), one with another `instance`
ends the message. DATA runs the data hook; END-OF-MESSAGE can decide nothing more (the content never comes) and
ends the message. VRFY runs the vrfy hook on the address asked about (with the message's sender when one is under
way), ETRN the etrn hook on its domain (outside a message), each after the session's hooks; a state filterd does
not know is answered DUNNO.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from filterd import maillog
from filterd.chain import DUNNO, Chain
from filterd.lifecycle import ENVELOPE, NEW, SESSION, Lifecycle, refuses, resolved
from filterd.model import Envelope, Session
from filterd.policy.protocol import Record, check_request
from filterd.policy.server.actions import Asked, action, requested
from filterd.verdict import Verdict


def session_of(record: Record, service: str) -> Session:
    """The SMTP client as the request describes it; what Postfix left empty is "unknown", as its logs say."""
    return Session(client_address=record.get("client_address") or "unknown",
                   client_port=int(record.get("client_port") or 0),
                   client_name=record.get("client_name") or "unknown",
                   reverse_client_name=record.get("reverse_client_name") or "", daemon_name=service,
                   server_address=record.get("server_address", ""),
                   server_port=int(record.get("server_port") or 0))


def envelope_of(record: Record) -> Envelope:
    """The message as far as the request tells: sender, queue id, the SIZE the client announced."""
    size = int(record.get("size") or 0)
    return Envelope(queue_id=record.get("queue_id", ""), sender=record.get("sender", ""),
                    mail_options=[f"SIZE={size}"] if size else [])


class PolicyHandler:
    """The requests of one policy connection, each answered with one access(5) action."""

    def __init__(self, chain: Chain, service: str = "policy"):
        self.chain = chain
        self.service = service
        self.life = Lifecycle(chain, Session(daemon_name=service), service)
        self.client: tuple[str, str] | None = None
        self.instance: str | None = None
        self.helo_name = ""
        self.helo_refusal: Verdict | None = None
        self.mail_refusal: Verdict | None = None

    async def answer(self, record: Record) -> str:
        """The action for one request; ProtocolError when it is not one Postfix would send."""
        state = check_request(record).get("protocol_state", "").upper()
        await self._follow(record, state)
        step = STEPS.get(state)
        if step is None:
            return "DUNNO"
        before = Asked.of(self.life.txn)
        verdict = await step(self, record)
        reply = action(verdict) or self._requested(before)
        if state == "END-OF-MESSAGE":
            self.life.abort()
        return reply

    def _requested(self, before: Asked) -> str:
        found = requested(before, self.life.txn)
        if len(found) > 1:
            maillog.warning(self.service, "one policy reply carries one action: %s; not sent: %s", found[0],
                            ", ".join(found[1:]))
        return found[0] if found else "DUNNO"

    async def close(self) -> None:
        """The connection ended: so does the session the handler had (the disconnect hook)."""
        if self.life.state is not NEW:
            await resolved(self.life.disconnect())

    async def _follow(self, record: Record, state: str) -> None:
        """A new client starts a new session, a new instance a new message; SASL and TLS may change meanwhile."""
        client = (record.get("client_address", ""), record.get("client_port", ""))
        if client != self.client or (state == "CONNECT" and self.life.state is not NEW):
            await self.close()
            self.life = Lifecycle(self.chain, session_of(record, self.service), self.service)
            self.client, self.instance, self.helo_name, self.helo_refusal = client, None, "", None
        instance = record.get("instance", "")
        if instance != self.instance:
            self.instance, self.mail_refusal = instance, None
            self.life.abort()
        session = self.life.session
        session.sasl_username = record.get("sasl_username", "")
        session.tls = bool(record.get("encryption_protocol"))

    async def connect(self, record: Record) -> Verdict:
        """The connect hook, once a session; its refusal answers every later request of the session."""
        life = self.life
        if life.state is NEW:
            await resolved(life.connect())
        return life.refusal or DUNNO

    async def helo(self, record: Record) -> Verdict:
        """The helo hook, once for each HELO name; its refusal answers the requests that come with that name."""
        verdict = await self.connect(record)
        name = record.get("helo_name", "")
        if verdict.final or not name or name == self.helo_name:
            return verdict if verdict.final else self.helo_refusal or DUNNO
        self.life.abort()
        self.helo_name, self.mail_refusal = name, None
        extended = record.get("protocol_name", "ESMTP").upper() != "SMTP"
        verdict = await resolved(self.life.helo(name, extended))
        self.helo_refusal = verdict if refuses(verdict) else None
        return verdict

    async def mail(self, record: Record) -> Verdict:
        """The mail_from hook, once a message; its refusal answers the message's later requests."""
        verdict = await self.helo(record)
        if verdict.final or self.mail_refusal is not None:
            return self.mail_refusal or verdict
        if self.life.state is not SESSION:
            return DUNNO
        envelope = envelope_of(record)
        verdict = await resolved(self.life.mail(envelope.sender, envelope.mail_options, envelope))
        self.mail_refusal = verdict if refuses(verdict) else None
        return verdict

    async def rcpt(self, record: Record) -> Verdict:
        """The rcpt hook on this recipient; one it lets through joins the envelope."""
        verdict = await self.mail(record)
        if verdict.final or self.life.state is not ENVELOPE:
            return verdict
        recipient = record.get("recipient", "")
        verdict = await resolved(self.life.rcpt(recipient))
        if not refuses(verdict):
            self.life.add_recipient(recipient)
        return verdict

    async def data(self, record: Record) -> Verdict:
        """The data hook, once a message."""
        verdict = await self.mail(record)
        if verdict.final or self.life.state is not ENVELOPE:
            return verdict
        return await resolved(self.life.data())

    async def vrfy(self, record: Record) -> Verdict:
        """The vrfy hook on the address asked about; nothing it decides is kept."""
        verdict = await self.helo(record)
        if verdict.final:
            return verdict
        return await resolved(self.life.vrfy(record.get("recipient", "")))

    async def etrn(self, record: Record) -> Verdict:
        """The etrn hook on the domain asked for, outside a message (Postfix refuses ETRN inside one itself)."""
        verdict = await self.helo(record)
        if verdict.final or self.life.state is not SESSION:
            return verdict
        return await resolved(self.life.etrn(record.get("etrn_domain", "")))


STEPS: dict[str, Callable[[PolicyHandler, Record], Awaitable[Verdict]]] = {
    "CONNECT": PolicyHandler.connect, "EHLO": PolicyHandler.helo, "HELO": PolicyHandler.helo,
    "MAIL": PolicyHandler.mail, "RCPT": PolicyHandler.rcpt, "DATA": PolicyHandler.data,
    "END-OF-MESSAGE": PolicyHandler.data, "VRFY": PolicyHandler.vrfy, "ETRN": PolicyHandler.etrn,
}
"""The handler's step for each protocol_state it decides at. END-OF-MESSAGE answers what DATA would, when DATA
was not asked, and then ends the message: its content never comes."""
