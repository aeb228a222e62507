"""filterd as a milter: each milter command becomes the chain call the SMTP front end makes at the same
point, and the chain's decisions become milter responses.

One MilterHandler per MTA connection. It touches no socket: `step()` takes a decoded command and returns the
responses at once, or a coroutine when plugins have to run (most commands need none: the MTA was asked not
to wait for them); filterd.milter.server.listener carries the bytes.
"""

from __future__ import annotations

import inspect
import time
from functools import cache
from typing import Any, Callable, Coroutine, Iterable

from filterd.chain import ERROR_ACTIONS, Chain
from filterd.content import BODY, END_OF_HEADERS, HEADER
from filterd.lifecycle import run_events_now
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
from filterd.verdict import Action, Verdict

Responses = Iterable[Packet]
Answer = Responses | Coroutine[Any, Any, Responses]
INTERNAL_ERROR = ERROR_ACTIONS["tempfail"]
CONTINUE = (Continue(),)
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


@cache
def negotiate(version: int, actions: int, steps: int, hooks: frozenset[str]) -> tuple[Framed, Negotiated]:
    """filterd's answer to an MTA's offer, and the agreement: the same for every connection of a kind."""
    offer = cmd.OptNeg(version, actions, steps)
    reply = answer(offer, requirements.actions(hooks), requirements.steps(hooks), symlists(requirements.macros(hooks)))
    return Framed(reply), agree(offer, reply)


class MilterHandler:
    """The milter dialogue of one MTA connection, translated to and from the chain."""

    def __init__(self, settings: MilterSettings, chain: Chain):
        self.settings = settings
        self.chain = chain
        self.hooks = requirements.implemented(chain)
        self._takes_session = requirements.READS_SESSION in self.hooks
        self.negotiated = Negotiated()
        self._agreed()
        self.macros = Macros()
        self.session = Session(daemon_name=settings.service)
        self.connected = False
        self.finished = False
        self.connect_verdict: Verdict | None = None
        self.txn: Transaction | None = None
        self.builder: MessageBuilder | None = None
        self.given: dict[str, str] = {}
        self._macros_read = -1

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
            raise ProtocolError(f"unknown packet code {code!r}")
        decode, method = receiver
        return self._answer(code, method(self, decode(payload)))

    def _answer(self, code: bytes, result: Answer) -> Answer:
        if code in self._unanswered:
            return _unanswered(result) if inspect.iscoroutine(result) else ()
        return result

    async def handle(self, command: Packet) -> Responses:
        """`step`, awaited."""
        result = self.step(command)
        return await result if inspect.iscoroutine(result) else result

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
        closing = self._close_session()
        self.session, self._macros_read = session_of(command, self.settings.service), -1
        self.connected = True
        if closing is None and "connect" not in self.hooks:
            return CONTINUE
        if closing is None:
            return self._connected(self._run("connect", self._scratch()))
        return self._connect(closing)

    async def _connect(self, closing: Coroutine) -> Responses:
        await closing
        answer = self._connected(self._run("connect", self._scratch()))
        return await answer if inspect.iscoroutine(answer) else answer

    def _connected(self, verdict: Verdict | Coroutine) -> Answer:
        if not isinstance(verdict, Verdict):
            return self._later(verdict, self._connected)
        if verdict.final:
            self.connect_verdict = verdict
        return (decision(verdict),)

    def helo(self, command: cmd.Helo) -> Answer:
        self.session.helo = command.name
        return self._decide("helo", None, hostname=command.name)

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
        closing = self._close_session()
        if closing is not None:
            await closing

    def _close_session(self) -> Coroutine | None:
        """End the SMTP session; the disconnect hook's call when a plugin implements it."""
        self._end_transaction()
        self.connect_verdict = None
        if not self.connected:
            return None
        self.connected = False
        return self._run("disconnect", self._scratch()) if "disconnect" in self.hooks else None

    # --- envelope ----------------------------------------------------------------------------

    def mail(self, command: cmd.Mail) -> Answer:
        self._end_transaction()
        sender = address(command.args[0]) if command.args else ""
        txn = self._begin(sender, list(command.args[1:]))
        if self.connect_verdict is not None:
            txn.final = self.connect_verdict
            return (decision(self.connect_verdict),)
        return self._decide("mail_from", txn, sender=sender)

    def rcpt(self, command: cmd.Rcpt) -> Answer:
        txn = self._transaction()
        given = command.args[0] if command.args else "<>"
        if "rcpt" not in self.hooks:
            self._add_recipient(txn, given, command.args[1:])
            return CONTINUE
        return self._rcpt(txn, given, command.args[1:], self._run("rcpt", txn, recipient=address(given)))

    def _rcpt(self, txn: Transaction, given: str, options: tuple[str, ...], verdict: Verdict | Coroutine) -> Answer:
        if not isinstance(verdict, Verdict):
            return self._later(verdict, lambda verdict: self._rcpt(txn, given, options, verdict))
        if not verdict.final:
            self._add_recipient(txn, given, options)
            return CONTINUE
        if verdict.action is not Action.DISCARD:
            txn.final = None
        return (decision(verdict),)

    def _add_recipient(self, txn: Transaction, given: str, options: tuple[str, ...]) -> None:
        recipient = address(given)
        txn.envelope.recipients.append(recipient)
        txn.envelope.rcpt_options[recipient] = list(options)
        self.given[recipient] = given

    def data(self, command: cmd.Data) -> Answer:
        return self._decide("data", self._transaction())

    def abort(self, command: cmd.Abort) -> Answer:
        self._end_transaction()
        self.macros.forget_from(codes.MAIL)
        return ()

    def _decide(self, hook: str, txn: Transaction | None, **kwargs: Any) -> Answer:
        """CONTINUE at once when no plugin implements the hook, else the coroutine that asks them."""
        if hook not in self.hooks:
            return CONTINUE
        return self._decision(self._run(hook, txn or self._scratch(), **kwargs))

    def _decision(self, verdict: Verdict | Coroutine) -> Answer:
        if not isinstance(verdict, Verdict):
            return self._later(verdict, self._decision)
        return (decision(verdict),)

    @staticmethod
    async def _later(pending: Coroutine, then: Callable[[Any], Answer]) -> Responses:
        """Await a plugin's answer, then go on as if it had come at once."""
        return then(await pending)  # type: ignore[return-value]

    # --- content -----------------------------------------------------------------------------

    def header(self, command: cmd.Header) -> Answer:
        txn = self._transaction()
        return self._content(txn, [(HEADER, self._builder().header(command.name, command.value))])

    def end_of_headers(self, command: cmd.EndOfHeaders) -> Answer:
        txn = self._transaction()
        return self._content(txn, self._builder().end_of_headers())

    def body(self, command: cmd.Body) -> Answer:
        txn = self._transaction()
        return self._content(txn, self._builder().body(command.data), body=True)

    def end_of_body(self, command: cmd.EndOfBody) -> Answer:
        txn, builder = self._transaction(), self._builder()
        self._read_macros()
        events = (builder.body(command.data) if command.data else []) + builder.finish()
        given, self.txn, self.builder, self.given = self.given, None, None, {}
        inspected = self._inspected(events)
        if "end_of_message" not in self.hooks and not inspected:
            return self._conclude(txn, builder, given)
        pending = self._events(txn, events) if inspected else None
        if pending is None and txn.final is None:
            pending = self._run("end_of_message", txn)
        if pending is None or isinstance(pending, Verdict):
            return self._conclude(txn, builder, given)
        return self._end_of_message(txn, builder, pending, given)

    async def _end_of_message(self, txn: Transaction, builder: MessageBuilder, pending: Coroutine,
                              given: dict[str, str]) -> Responses:
        """What the chain still has to do (content events left, end_of_message), then the answer."""
        try:
            if await pending is None and txn.final is None:
                verdict = self._run("end_of_message", txn)
                if not isinstance(verdict, Verdict):
                    await verdict
        except BaseException:
            builder.close()
            raise
        return self._conclude(txn, builder, given)

    def _conclude(self, txn: Transaction, builder: MessageBuilder, given: dict[str, str]) -> Responses:
        return conclude(txn, builder.message, given, self._leading_space, self._headers_sent)

    def _content(self, txn: Transaction, events: list, body: bool = False) -> Answer:
        if self._inspected(events):
            return self._inspect(txn, events, body)
        return self._so_far(txn, body)

    def _inspect(self, txn: Transaction, events: list, body: bool) -> Answer:
        pending = self._events(txn, events)
        if pending is None:
            return self._so_far(txn, body)
        return self._later(pending, lambda _: self._so_far(txn, body))

    def _inspected(self, events: list) -> bool:
        """Does some plugin implement the hook of any of these content events?"""
        return any(EVENT_HOOKS[kind] in self.hooks for kind, _ in events)

    def _so_far(self, txn: Transaction, body: bool = False) -> Responses:
        """Mid-message: refuse at once on a final verdict, let go of the message after PASS, else go on."""
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

    def _begin(self, sender: str | None, options: list[str]) -> Transaction:
        envelope = Envelope(sender=sender, mail_options=options, arrival=time.time())
        self.txn = Transaction(self.session, envelope, service=self.settings.service)
        self._macros_read = -1
        return self.txn

    def _transaction(self) -> Transaction:
        """The current transaction; one is begun when the MTA sent no MAIL (a test tool, or a NOMAIL agreement:
        the sender unknown)."""
        return self.txn if self.txn is not None else self._begin(None if self._mail_skipped else "", [])

    def _builder(self) -> MessageBuilder:
        if self.builder is None:
            self.builder = MessageBuilder(self.settings, "body" in self.hooks, self._leading_space)
            self._transaction().message = self.builder.message
        return self.builder

    def _end_transaction(self) -> None:
        if self.builder is not None:
            self.builder.close()
        self.txn, self.builder, self.given = None, None, {}

    def _run(self, hook: str, txn: Transaction, **kwargs: Any) -> Verdict | Coroutine:
        """The chain's call for one hook, the MTA's macros read first: what plugins see of the session."""
        self._read_macros()
        return self.chain.run_now(hook, txn, **kwargs)

    def _events(self, txn: Transaction, events: list) -> Coroutine | None:
        self._read_macros()
        return run_events_now(self.chain, txn, events)

    def _read_macros(self) -> None:
        """Session and envelope facts the MTA sends as macros: queue id; when a plugin looks at the session,
        SASL login, TLS and daemon name; where it sends no CONNECT and MAIL, the client, for the log."""
        macros, session = self.macros, self.session
        if macros.version == self._macros_read:
            return
        self._macros_read = macros.version
        if self._takes_session:
            session.sasl_username = macros.get("auth_authen") or session.sasl_username
            session.daemon_name = macros.get("daemon_name") or session.daemon_name
            session.tls = session.tls or bool(macros.get("tls_version"))
        queue_id = macros.get("i")
        if queue_id and self.txn is not None:
            self.txn.envelope.queue_id = queue_id
        if self._mail_skipped and not self.connected:
            session.client_address = macros.get("client_addr") or "unknown"
            session.client_name = macros.get("client_name") or "unknown"

    def _scratch(self) -> Transaction:
        return Transaction(self.session, Envelope(), service=self.settings.service)


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
