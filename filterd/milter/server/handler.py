"""filterd as a milter: each milter command becomes the chain call the SMTP front end makes at the same
point, and the chain's decisions become milter responses.

One MilterHandler per MTA connection. It touches no socket: `step()` takes a decoded command and returns the
responses at once, or a coroutine when plugins have to run (most commands need none: the MTA was asked not
to wait for them); filterd.milter.server.listener carries the bytes.
"""

from __future__ import annotations

from functools import lru_cache, partial
from types import CoroutineType
from typing import Any, Callable, Coroutine, Iterable

from filterd.chain import DUNNO, ERROR_ACTIONS, Chain
from filterd.content import BODY, END_OF_HEADERS, HEADER
from filterd.lifecycle import CLOSED, CONTENT, ENVELOPE, NEW, OPEN, SESSION, Lifecycle, State, refuses, resolved, then
from filterd.edits import LineEdit
from filterd.milter.protocol import codes
from filterd.milter.protocol import commands as cmd
from filterd.milter.protocol.codes import Steps
from filterd.milter.protocol.framing import ProtocolError
from filterd.milter.protocol.macros import Macros, symlists
from filterd.milter.protocol.negotiation import Negotiated, agree, answer
from filterd.milter.protocol.packets import Framed, Packet
from filterd.milter.protocol.responses import Accept, Continue, Skip
from filterd.milter.server import requirements
from filterd.milter.server.message import MessageBuilder
from filterd.milter.server.modifications import conclude
from filterd.milter.server.replies import decision
from filterd.milter.server.settings import MilterSettings
from filterd.model import Envelope, Session
from filterd.transaction import Transaction
from filterd.verdict import Verdict

Responses = Iterable[Packet]
Answer = Responses | Coroutine[Any, Any, Responses]
INTERNAL_ERROR = ERROR_ACTIONS["tempfail"]
CONTINUE = (Continue(),)
EHLO = True  # the milter protocol does not say HELO or EHLO (no Postfix macro does): EHLO, as nearly every client
EVENT_HOOKS = {HEADER: "header", END_OF_HEADERS: "end_of_headers", BODY: "body"}


def address(arg: str) -> str:
    """An envelope address without its angle brackets."""
    arg = arg.strip()
    return arg[1:-1] if arg[:1] == "<" and arg[-1:] == ">" else arg


def session_of(command: cmd.Connect, daemon_name: str) -> Session:
    """The client as the MTA describes it; Postfix sends an unverified name as "[address]"."""
    name = command.hostname
    if not name or (name[:1] == "[" and name[-1:] == "]"):
        name = "unknown"
    return Session(client_address=command.address or "unknown", client_port=command.port or 0,
                   client_name=name, daemon_name=daemon_name)


def pending(txn: Transaction) -> bool:
    """Has the chain asked for anything that only the end of message can carry out?"""
    return bool(txn.edits or txn.hold or txn.redirect or txn.bcc)


@lru_cache(maxsize=64)
def negotiate(version: int, actions: int, steps: int, hooks: frozenset[str]) -> tuple[Framed, Negotiated]:
    """filterd's answer to an MTA's offer, and the agreement: the same for every connection of a kind (kept for a
    few kinds: an MTA may offer any numbers, and a cache of every offer would grow without end)."""
    offer = cmd.OptNeg(version, actions, steps)
    reply = answer(offer, requirements.actions(hooks), requirements.steps(hooks), symlists(requirements.macros(hooks)))
    return Framed(reply), agree(offer, reply)


class UnknownPacket(ProtocolError):
    """A packet code no milter command has: libmilter's engine gives up on the connection (MI_FAILURE), unanswered."""


class MilterHandler:
    """The milter dialogue of one MTA connection: commands as lifecycle events, its answers as milter responses."""

    def __init__(self, settings: MilterSettings, chain: Chain):
        self.settings = settings
        self.chain = chain
        self.hooks = requirements.implemented(chain)
        self._takes_session = requirements.READS_SESSION in self.hooks
        self.negotiated = Negotiated()
        self._agreed()
        self.macros = Macros()
        self.session = Session(daemon_name=settings.service)
        self.life = Lifecycle(chain, self.session, settings.service)
        self.told_client = False
        """Did the MTA send CONNECT? Without it the client comes in end-of-message macros."""
        self.finished = False
        self.builder: MessageBuilder | None = None
        self.given: dict[str, str] = {}
        """Each recipient as the MTA gave it (brackets, case): DELRCPT must name it so."""
        self._macros_read = -1

    @property
    def txn(self) -> Transaction | None:
        return self.life.txn

    @property
    def connected(self) -> bool:
        return self.life.state in OPEN

    def step(self, command: Packet) -> Answer:
        """The answer to one command: responses, or a coroutine giving them; nothing if the MTA waits for none."""
        if type(command) is cmd.Macro:
            self.macro(command)
            return ()
        return self._answer(command.code, COMMANDS[type(command)](self, command))

    def _agreed(self) -> None:
        """What the agreement decides for every message, looked up once."""
        agreed = self.negotiated
        self._unanswered = agreed.unanswered
        self._leading_space = agreed.has(Steps.HDR_LEADSPC)
        self._headers_sent = agreed.sends(codes.HEADER)
        self._mail_skipped = agreed.has(Steps.NOMAIL)

    def receive(self, code: bytes, payload: bytes) -> Answer:
        """`step` for a packet as it came off the wire; a macro is kept without building a packet."""
        if code == codes.MACRO:
            self.macros.define(*cmd.macro_of(payload))
            return ()
        receiver = RECEIVERS.get(code)
        if receiver is None:
            raise UnknownPacket(f"unknown packet code {code!r}")
        decode, method = receiver
        return self._answer(code, method(self, decode(payload)))

    def _answer(self, code: bytes, result: Answer) -> Answer:
        if code in self._unanswered:
            return _unanswered(result) if type(result) is CoroutineType else ()
        return result

    async def handle(self, command: Packet) -> Responses:
        """`step`, awaited."""
        return await resolved(self.step(command))

    def fail(self, code: bytes) -> Responses:
        """After an internal error: the message (if any) is refused for now, and the MTA is answered."""
        if self.txn is not None:
            self.txn.final = INTERNAL_ERROR
        return (decision(INTERNAL_ERROR),) if self.negotiated.expects_reply(code) else ()

    def macro(self, command: cmd.Macro) -> None:
        """SMFIC_MACRO: remembered for the command it precedes; never answered."""
        self.macros.define(command.stage.encode("latin-1"), command.pairs)

    # --- connection --------------------------------------------------------------------------

    def optneg(self, command: cmd.OptNeg) -> Answer:
        reply, self.negotiated = negotiate(command.version, command.actions, command.steps, self.hooks)
        self._agreed()
        return (reply,)

    def connect(self, command: cmd.Connect) -> Answer:
        """A new SMTP session (after QUIT_NC, the last one ends first)."""
        closing = self._close_session()
        self.session, self._macros_read = session_of(command, self.settings.service), -1
        self.life, self.told_client = Lifecycle(self.chain, self.session, self.settings.service), True
        return self._connected() if closing is None else then(closing, self._connected)

    def _connected(self, _closed: object = None) -> Answer:
        self._read_macros()
        return self._decision(self.life.connect())

    def helo(self, command: cmd.Helo) -> Answer:
        if self.life.state is not SESSION:
            self._reach(SESSION)
        self._read_macros()
        return self._decision(self.life.helo(command.name, EHLO))

    def quit(self, command: cmd.Quit) -> Answer:
        self.finished = True
        return self._close_session() or ()

    def quit_new_connection(self, command: cmd.QuitNewConnection) -> Answer:
        self.macros.clear()
        return self._close_session() or ()

    def unknown(self, command: cmd.Unknown) -> Answer:
        return CONTINUE

    def close(self) -> Coroutine | None:
        """The MTA went away: the session ends; the disconnect hook's call when a plugin implements it."""
        return self._close_session()

    async def disconnect(self) -> None:
        """`close`, awaited."""
        await resolved(self._close_session())

    def _close_session(self) -> Coroutine | None:
        """End the SMTP session; the disconnect hook's call when a plugin implements it."""
        self._end_message()
        if self.life.state is NEW:
            return None
        closing = self.life.disconnect()
        return closing if type(closing) is CoroutineType else None

    # --- envelope ----------------------------------------------------------------------------

    def mail(self, command: cmd.Mail) -> Answer:
        if self.life.state is not SESSION:
            self._reach(SESSION)
        self._read_macros()
        sender = address(command.args[0]) if command.args else ""
        envelope = Envelope(sender=sender, queue_id=self.macros.get("i") or "")
        return self._decision(self.life.mail(sender, command.args[1:], envelope))

    def rcpt(self, command: cmd.Rcpt) -> Answer:
        if self.life.state is not ENVELOPE:
            self._reach(ENVELOPE)
        self._read_macros()
        given = command.args[0] if command.args else "<>"
        verdict = self.life.rcpt(address(given))
        if type(verdict) is CoroutineType:
            return then(verdict, partial(self._recipient, given, command.args[1:]))
        return self._recipient(given, command.args[1:], verdict)

    def _recipient(self, given: str, options: tuple[str, ...], verdict: Verdict) -> Responses:
        """The chain's verdict on a recipient: refused, or taken (a DISCARD takes it: the MTA drops the message)."""
        if not refuses(verdict):
            recipient = address(given)
            self.life.add_recipient(recipient, options)
            self.given[recipient] = given
        return (decision(verdict),)

    def data(self, command: cmd.Data) -> Answer:
        if self.life.state is not ENVELOPE:
            self._reach(ENVELOPE)
        self._read_macros()
        return self._decision(self.life.data())

    def abort(self, command: cmd.Abort) -> Answer:
        self._end_message()
        self.life.abort()
        self.macros.forget_from(codes.MAIL)
        return ()

    # --- content -----------------------------------------------------------------------------

    def header(self, command: cmd.Header) -> Answer:
        builder = self._builder()
        return self._content([(HEADER, builder.header(command.name, command.value))])

    def end_of_headers(self, command: cmd.EndOfHeaders) -> Answer:
        return self._content(self._builder().end_of_headers())

    def body(self, command: cmd.Body) -> Answer:
        return self._content(self._builder().body(command.data), body=True)

    def end_of_body(self, command: cmd.EndOfBody) -> Answer:
        builder = self._builder()
        self._read_macros()
        events = (builder.body(command.data) if command.data else []) + builder.finish()
        given, self.builder, self.given = self.given, None, {}
        txn = self.life.end_of_message(events if self._inspected(events) else ())
        if type(txn) is CoroutineType:
            return _closed_on_error(builder, then(txn, partial(self._conclude, builder, given)))
        return self._conclude(builder, given, txn)

    def _conclude(self, builder: MessageBuilder, given: dict[str, str], txn: Transaction) -> Responses:
        return conclude(txn, builder.message, given, self._leading_space, self._headers_sent)

    def _content(self, events: list, body: bool = False) -> Answer:
        """Content events to the chain, only when some plugin inspects them; then the answer so far."""
        if not self._inspected(events):
            return self._so_far(body)
        self._read_macros()
        pending = self.life.content(events)
        return self._so_far(body) if pending is None else then(pending, partial(self._so_far, body))

    def _inspected(self, events: list) -> bool:
        """Does some plugin implement the hook of any of these content events?"""
        return any(EVENT_HOOKS[kind] in self.hooks for kind, _ in events)

    def _so_far(self, body: bool = False, _inspected: object = None) -> Responses:
        """Mid-message: refuse at once on a final verdict, let go of the message after PASS, else go on."""
        txn = self.life.txn
        if txn.final is not None:
            return (decision(txn.final),)
        if txn.passed and not pending(txn):
            return (Accept(),)
        if body and txn.passed and self._may_skip(txn):
            return (Skip(),)
        return CONTINUE

    def _may_skip(self, txn: Transaction) -> bool:
        """May the MTA stop sending the body? Only if it offered SKIP and no line edit needs the rest."""
        return self.negotiated.has(Steps.SKIP) and not any(isinstance(e, LineEdit) for e in txn.edits)

    # --- state -------------------------------------------------------------------------------

    def _reach(self, state: State) -> None:
        """Bring the lifecycle to `state` as the MTA implies: a new MAIL or HELO ends a message, so does a command
        that belongs before the one that came (libmilter aborts the message then), a command after QUIT_NC starts
        the next session, and the events it was asked not to send (CONNECT, MAIL with the sender unknown under
        NOMAIL, DATA) are skipped."""
        now = self.life.state
        if now is CLOSED:
            self.session, self._macros_read, self.told_client = Session(daemon_name=self.settings.service), -1, False
            self.life = Lifecycle(self.chain, self.session, self.settings.service)
        elif now is CONTENT and state is not CONTENT or now is ENVELOPE and state is SESSION:
            self._end_message()
            self.life.abort()
        self.life.skip_to(state, None if self._mail_skipped else "")

    def _builder(self) -> MessageBuilder:
        if self.builder is None:
            self._reach(CONTENT)
            self.builder = MessageBuilder(self.settings, "body" in self.hooks, self._leading_space)
            self.life.txn.message = self.builder.message
        return self.builder

    def _end_message(self) -> None:
        if self.builder is not None:
            self.builder.close()
        self.builder, self.given = None, {}

    @staticmethod
    def _decision(verdict: Verdict | Coroutine) -> Answer:
        """The milter decision for a verdict, at once or once it comes."""
        if verdict is DUNNO:
            return CONTINUE
        if type(verdict) is Verdict:
            return (decision(verdict),)
        return then(verdict, _decided)

    def _read_macros(self) -> None:
        """Session and envelope facts the MTA sends as macros, read before plugins see them: queue id; when a
        plugin looks at the session, SASL login, TLS and daemon name; where it sends no CONNECT and MAIL, the
        client, for the log."""
        macros, session = self.macros, self.session
        if macros.version == self._macros_read:
            return
        self._macros_read = macros.version
        if self._takes_session:
            session.sasl_username = macros.get("auth_authen") or session.sasl_username
            session.sasl_method = macros.get("auth_type") or session.sasl_method
            session.daemon_name = macros.get("daemon_name") or session.daemon_name
            session.tls = session.tls or bool(macros.get("tls_version"))
        queue_id = macros.get("i")
        txn = self.life.txn
        if queue_id and txn is not None:
            txn.envelope.queue_id = queue_id
        if self._mail_skipped and not self.told_client:
            session.client_address = macros.get("client_addr") or "unknown"
            session.client_name = macros.get("client_name") or "unknown"


def _decided(verdict: Verdict) -> Responses:
    return (decision(verdict),)


async def _closed_on_error(builder: MessageBuilder, answer: Coroutine) -> Responses:
    """The answer still to come; the message is closed should the chain fail on the way."""
    try:
        return await answer
    except BaseException:
        builder.close()
        raise


async def _unanswered(result: Coroutine) -> Responses:
    """Run a plugin call whose answer the MTA does not wait for."""
    await result
    return ()


COMMANDS: dict[type, Callable[[MilterHandler, Any], Answer]] = {
    cmd.OptNeg: MilterHandler.optneg, cmd.Connect: MilterHandler.connect, cmd.Helo: MilterHandler.helo,
    cmd.Mail: MilterHandler.mail, cmd.Rcpt: MilterHandler.rcpt, cmd.Data: MilterHandler.data,
    cmd.Header: MilterHandler.header, cmd.EndOfHeaders: MilterHandler.end_of_headers, cmd.Body: MilterHandler.body,
    cmd.EndOfBody: MilterHandler.end_of_body, cmd.Abort: MilterHandler.abort, cmd.Quit: MilterHandler.quit,
    cmd.QuitNewConnection: MilterHandler.quit_new_connection, cmd.Unknown: MilterHandler.unknown,
}
"""The handler method for each command (MACRO is handled on the spot)."""

RECEIVERS = {code: (cmd.DECODERS[code], COMMANDS[kind]) for code, kind in cmd.COMMANDS.items() if kind in COMMANDS}
"""Each command's decoder and handler method, by code: `receive`'s dispatch."""
