"""filterd's smtpd_milters for one SMTP session, called in turn as Postfix's milter(3) calls them.

Each envelope event goes to every milter in the order of smtpd_milters until one of them answers with a
reply (reject, tempfail, discard, quarantine): that reply is the event's. At the end of the message each
milter gets the whole message in turn, seeing the edits of the milters before it; the edits of all come
back as one verdict. A milter that accepted or rejected the connection hears nothing more of it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Awaitable, Callable

from filterd import maillog
from filterd.content import Header
from filterd.edits import apply
from filterd.milter.client.answers import verdict_of
from filterd.milter.client.connection import MilterClient
from filterd.milter.client.dialogue import SHUTDOWN
from filterd.milter.client.settings import ClientSettings
from filterd.milter.client.symbols import Context
from filterd.milter.protocol import codes
from filterd.milter.protocol import commands as cmd
from filterd.model import Envelope, Message, Session
from filterd.verdict import Edit, ReplaceBody, Verdict


def own_received(headers: list[Header], myhostname: str, mail_name: str) -> Header | None:
    """The Received: header filterd's smtpd put on top, which milters never see (as Postfix hides its own)."""
    if not headers or headers[0].name.lower() != "received":
        return None
    return headers[0] if f"by {myhostname} ({mail_name}) with " in headers[0].text else None


def connect_command(session: Session) -> cmd.Connect:
    """SMFIC_CONNECT for the client: an unknown name goes as "[address]", as Postfix sends it."""
    address = session.client_address
    name = session.client_name
    if name == "unknown" and address != "unknown":
        name = f"[{address}]"
    family = codes.FAMILY_INET6 if ":" in address else codes.FAMILY_INET
    return cmd.Connect(name, family, session.client_port, address)


class SessionMilters:
    """The milters of one SMTP session, kept in the session's notes by the milters plugin."""

    def __init__(self, settings: ClientSettings, session: Session):
        self.settings = settings
        milters = settings.milters_for(session.unforwarded().client_address, session.daemon_name)
        self.clients = [MilterClient(spec, settings.symbols, session.daemon_name) for spec in milters]
        self.in_transaction = False
        self.files: list[Path] = []

    async def _each(self, call: Callable[[MilterClient], Awaitable[str | None]]) -> str | None:
        """Call the milters in turn until one replies."""
        for client in self.clients:
            reply = await call(client)
            if reply is not None:
                return reply
        return None

    async def connect(self, session: Session) -> Verdict:
        """Connect to each milter and report the client; the front end reports a refusal at MAIL and RCPT."""
        command, context = connect_command(session), Context(session)
        return verdict_of(await self._each(lambda client: client.connect(command, context)))

    async def helo(self, session: Session, hostname: str) -> Verdict:
        """Postfix reports a milter's HELO refusal at MAIL (the milter keeps refusing); only 421 is immediate."""
        context = Context(session)
        reply = await self._each(lambda client: client.event(codes.HELO, cmd.Helo(hostname), context))
        if reply == SHUTDOWN:
            return verdict_of(reply)
        if reply and reply[0] in "45":
            command = "EHLO" if session.protocol == "ESMTP" else "HELO"
            maillog.info(session.daemon_name, "NOQUEUE: milter-reject: %s from %s: %s; proto=%s helo=<%s>",
                         command, session.client, reply, session.protocol, hostname)
        return Verdict()

    async def mail(self, session: Session, envelope: Envelope, sender: str) -> Verdict:
        """MAIL FROM with its ESMTP parameters; an unfinished earlier transaction is aborted first."""
        await self.end_transaction()
        self.in_transaction = True
        command = cmd.Mail((f"<{sender}>", *envelope.mail_options))
        context = Context(session, envelope)
        return verdict_of(await self._each(lambda client: client.event(codes.MAIL, command, context)))

    async def rcpt(self, session: Session, envelope: Envelope, recipient: str) -> Verdict:
        """RCPT TO; a refusal refuses this recipient only."""
        command, context = cmd.Rcpt((f"<{recipient}>",)), Context(session, envelope, recipient)
        return verdict_of(await self._each(lambda client: client.event(codes.RCPT, command, context)))

    async def data(self, session: Session, envelope: Envelope) -> Verdict:
        """DATA, all recipients known."""
        context = Context(session, envelope, envelope.recipients[-1] if envelope.recipients else None)
        return verdict_of(await self._each(lambda client: client.event(codes.DATA, cmd.Data(), context)))

    async def end_of_message(self, session: Session, envelope: Envelope, message: Message) -> Verdict:
        """The message to each milter in turn, each seeing the edits before it; a reply ends the round."""
        context = Context(session, envelope, envelope.recipients[-1] if envelope.recipients else None)
        hidden = own_received(message.headers, self.settings.symbols.myhostname, self.settings.mail_name)
        edits: list[Edit] = []
        reply = None
        for client in self.clients:
            with self._view(message, edits) as view:
                reply, asked = await client.message(view, hidden, context)
            edits += asked
            self.files += [e.body for e in asked if isinstance(e, ReplaceBody) and isinstance(e.body, Path)]
            if reply is not None:
                break
        self.in_transaction = False
        verdict = verdict_of(reply)
        return verdict if verdict.final else verdict.with_edits(*edits)

    @contextlib.contextmanager
    def _view(self, message: Message, edits: list[Edit]):
        """The message as the next milter sees it: the earlier milters' edits applied."""
        if not edits:
            yield message
            return
        view = apply(message, list(edits))
        try:
            yield view
        finally:
            if any(isinstance(edit, ReplaceBody) for edit in edits):
                view.close()

    async def end_transaction(self) -> None:
        """SMFIC_ABORT to every milter if a transaction was left unfinished; old replacement bodies go."""
        if self.in_transaction:
            for client in self.clients:
                await client.abort()
        self.in_transaction = False
        for path in self.files:
            path.unlink(missing_ok=True)
        self.files.clear()

    async def disconnect(self) -> None:
        """The SMTP session is over: SMFIC_QUIT to every milter, connections closed."""
        await self.end_transaction()
        for client in self.clients:
            await client.quit()
