"""One client session as the chain sees it, the same for every front end: a sans-IO state machine, as h11
keeps HTTP's.

A front end translates its wire into the events below (connect, helo, mail, rcpt, data, content,
end_of_message, abort, disconnect) and the lifecycle's answers back into its wire. `TRANSITIONS` is the one
table of which event each state allows and where it leads; `REFUSES` says what a final verdict refuses at
each event. Each event answers at once when every plugin did, else with a coroutine to await: the milter
answers most commands without a task.
"""

from __future__ import annotations

import enum
import time
from types import CoroutineType
from typing import Any, Callable, Coroutine, TypeVar

from filterd.chain import DUNNO, Chain
from filterd.content import BODY, END_OF_HEADERS, HEADER
from filterd.model import Envelope, Session
from filterd.transaction import Call, Transaction
from filterd.verdict import Action, Verdict

T = TypeVar("T")
R = TypeVar("R")
Answer = Verdict | Coroutine[Any, Any, Verdict]
Events = list[tuple[str, object]]


class State(enum.Enum):
    """Where a session stands."""

    NEW = "new"
    """Before the client connected."""
    SESSION = "session"
    """Connected, no mail transaction."""
    ENVELOPE = "envelope"
    """MAIL accepted; recipients come."""
    CONTENT = "content"
    """DATA accepted; headers and body come."""
    CLOSED = "closed"
    """The client went away."""

    __hash__ = object.__hash__  # members are singletons; Enum's own hash is a Python call on every lookup


NEW, SESSION, ENVELOPE, CONTENT, CLOSED = State
OPEN = (SESSION, ENVELOPE, CONTENT)


class OutOfOrder(Exception):
    """An event the session's state does not allow; the front end answers as its protocol says."""


class _Table(dict):
    """The transition table; an event it lacks for a state is OutOfOrder."""

    def __missing__(self, key: tuple[State, str]) -> tuple[State, State]:
        raise OutOfOrder(f"{key[1]} in state {key[0].value}")


TRANSITIONS: dict[tuple[State, str], tuple[State, State]] = _Table({
    (NEW, "connect"): (SESSION, SESSION),
    **{(state, "helo"): (SESSION, SESSION) for state in (SESSION, ENVELOPE)},
    (SESSION, "mail"): (ENVELOPE, SESSION),
    (ENVELOPE, "rcpt"): (ENVELOPE, ENVELOPE),
    **{(state, "vrfy"): (state, state) for state in (SESSION, ENVELOPE)},
    (SESSION, "etrn"): (SESSION, SESSION),
    (ENVELOPE, "data"): (CONTENT, SESSION),
    (CONTENT, "content"): (CONTENT, CONTENT),
    (CONTENT, "end_of_message"): (SESSION, SESSION),
    **{(state, "abort"): (SESSION, SESSION) for state in OPEN},
    **{(state, "disconnect"): (CLOSED, CLOSED) for state in (NEW, *OPEN)},
})
"""(state, event) -> (the next state when the chain lets the event through, when a final verdict refuses it).
HELO and EHLO end a mail transaction, as RFC 5321 and Postfix's smtpd have it."""

SKIPPED = {NEW: "connect", SESSION: "mail", ENVELOPE: "data"}
"""The event that leads out of each state on the way to the content: what a milter's MTA may leave unsent."""

REFUSES = {
    "connect": "every transaction of the session, reported at its MAIL (as smtpd_delay_reject = yes does)",
    "helo": "the command",
    "mail": "the transaction, which does not begin",
    "rcpt": "this recipient only",
    "vrfy": "the VRFY command only",
    "etrn": "the ETRN command only",
    "data": "the transaction",
    "content": "the message, reported at its end (a milter reports at once)",
    "end_of_message": "the message",
}
"""What a final REJECT or DEFER refuses at each event. DISCARD refuses nothing: the transaction goes on and
its message is dropped at the end, as Postfix's DISCARD in an smtpd restriction (txn.final holds it)."""


def refuses(verdict: Verdict) -> bool:
    """Does the verdict refuse what it answers (REJECT, DEFER)? DISCARD accepts, to drop the message later."""
    return verdict.action in _REFUSING


_REFUSING = frozenset({Action.REJECT, Action.DEFER})


def then(answer: T | Coroutine[Any, Any, T], step: Callable[[T], R]) -> R | Coroutine[Any, Any, R]:
    """`step(answer)` at once when the answer is in, else a coroutine that awaits it first."""
    if type(answer) is CoroutineType:
        return _then(answer, step)
    return step(answer)  # type: ignore[arg-type]


async def _then(pending: Coroutine[Any, Any, T], step: Callable[[T], Any]) -> Any:
    result = step(await pending)
    return await result if type(result) is CoroutineType else result


async def resolved(answer: T | Coroutine[Any, Any, T]) -> T:
    """The answer, awaited when it is a coroutine."""
    return await answer if type(answer) is CoroutineType else answer  # type: ignore[return-value]


class Lifecycle:
    """The events of one client session: each looked up in TRANSITIONS, given to the chain, its verdict scoped
    (REFUSES), and the state moved to where the table says."""

    def __init__(self, chain: Chain, session: Session, service: str = "smtpd", trace: list[Call] | None = None):
        self.chain = chain
        self.session = session
        self.service = service
        self.trace = trace
        self.state = NEW
        self.txn: Transaction | None = None
        self.refusal: Verdict | None = None
        """The connect hook's final verdict, which refuses every transaction of the session."""
        self._next: tuple[State, State] = (NEW, NEW)
        """The event in progress: the states it leads to when let through and when refused."""
        self._kept: Verdict | None = None
        """The transaction's final verdict before a RCPT, which a refused recipient leaves as it was."""

    def _session_call(self, command: str = "") -> Transaction:
        """A transaction without an envelope, for the events of the session itself (`command`: see Transaction)."""
        return Transaction(self.session, Envelope(sender=None), service=self.service, trace=self.trace,
                           command=command)

    def _settle(self, refused: bool = False) -> bool:
        """Move to the state the event in progress leads to, let through or refused; a transaction ends where
        the table leads out of it."""
        self.state = self._next[refused]
        if self.state is SESSION:
            self.txn = None
        return refused

    def _run(self, hook: str, txn: Transaction | None, step: Callable[[Verdict], Verdict], subject: object = None,
             **kwargs: Any) -> Answer:
        """The chain's verdict on the event in progress, taken by `step`; no call when no plugin has the hook."""
        if hook not in self.chain.hooks:
            return step(DUNNO)
        verdict = self.chain.run_now(hook, txn or self._session_call(), subject, **kwargs)
        return _then(verdict, step) if type(verdict) is CoroutineType else step(verdict)

    def connect(self, command: str = "") -> Answer:
        """The client connected (`command`: XCLIENT, when it stands in for another from now on)."""
        self._next = TRANSITIONS[self.state, "connect"]
        return self._run("connect", self._session_call(command) if command else None, self._connected)

    def _connected(self, verdict: Verdict) -> Verdict:
        self._settle(refuses(verdict))
        if verdict.final:
            self.refusal = verdict
        return verdict

    def helo(self, hostname: str, extended: bool = True) -> Answer:
        """HELO or EHLO: it ends any mail transaction. The plugins see the new name with the protocol as it was (a
        refusal is logged `proto=SMTP helo=<NEW>` for a first EHLO); the session keeps the new name and protocol only
        once nothing refused them, as Postfix's smtpd_check_helo pushes the name for its checks alone. HELO after EHLO
        leaves the protocol ESMTP, as Postfix's smtpd never downgrades it."""
        self._next = TRANSITIONS[self.state, "helo"]
        before, self.session.helo = self.session.helo, hostname
        protocol = "ESMTP" if extended or self.session.protocol == "ESMTP" else "SMTP"

        def greeted(verdict: Verdict) -> Verdict:
            if verdict.action in _REFUSING:
                self.session.helo = before
            else:
                self.session.protocol = protocol
            return self._settled(verdict)

        call = self._session_call("EHLO" if extended else "HELO")
        return self._run("helo", call, greeted, hostname=hostname, extended=extended)

    def _settled(self, verdict: Verdict) -> Verdict:
        """`_settle` by the verdict (inline: every event but content comes through here)."""
        self.state = self._next[verdict.action in _REFUSING]
        if self.state is SESSION:
            self.txn = None
        return verdict

    def mail(self, sender: str | None, options: list[str] | tuple[str, ...] = (),
             envelope: Envelope | None = None) -> Answer:
        """MAIL FROM begins a transaction; `sender` is None where the MTA never said (a milter's NOMAIL). A front
        end that numbers the message before the chain sees it passes its envelope."""
        self._next = TRANSITIONS[self.state, "mail"]
        envelope = envelope or Envelope(sender=sender)
        envelope.mail_options, envelope.arrival = list(options), time.time()
        txn = self.txn = Transaction(self.session, envelope, service=self.service, trace=self.trace)
        if self.refusal is not None:
            txn.final = self.refusal
            txn.log_verdict("mail_from", self.refusal)
            return self._settled(self.refusal)
        return self._run("mail_from", txn, self._settled, sender=sender)

    def rcpt(self, recipient: str) -> Answer:
        """RCPT TO: the chain's verdict on this recipient; `add_recipient` takes it once the next hop agreed."""
        self._next = TRANSITIONS[self.state, "rcpt"]
        self._kept = self.txn.final  # type: ignore[union-attr]
        return self._run("rcpt", self.txn, self._rcpt_decided, recipient, recipient=recipient)

    def _rcpt_decided(self, verdict: Verdict) -> Verdict:
        if self._settle(refuses(verdict)):
            self.txn.final = self._kept  # type: ignore[union-attr]
        return verdict

    def vrfy(self, recipient: str) -> Answer:
        """VRFY: the chain's verdict on a recipient that is only asked about. The session stays where it is; the
        hook sees the transaction's sender and queue id when there is one, and what it decides is not kept."""
        self._next = TRANSITIONS[self.state, "vrfy"]
        envelope = self.txn.envelope if self.txn is not None else Envelope(sender=None)
        asked = Envelope(envelope.queue_id, envelope.sender, list(envelope.recipients), list(envelope.mail_options))
        call = Transaction(self.session, asked, service=self.service, trace=self.trace)
        if self.refusal is not None:
            call.log_verdict("vrfy", self.refusal, recipient)
            return self._settled(self.refusal)
        return self._run("vrfy", call, self._settled, recipient, recipient=recipient)

    def etrn(self, site: str) -> Answer:
        """ETRN, outside a mail transaction: the chain's verdict on a client asking for the mail queued for `site`."""
        self._next = TRANSITIONS[self.state, "etrn"]
        call = Transaction(self.session, Envelope(sender=None), service=self.service, trace=self.trace)
        if self.refusal is not None:
            call.log_verdict("etrn", self.refusal)
            return self._settled(self.refusal)
        return self._run("etrn", call, self._settled, site=site)

    def add_recipient(self, recipient: str, options: list[str] | tuple[str, ...] = ()) -> None:
        """A recipient the chain (and the next hop, where there is one) accepted."""
        envelope = self.txn.envelope  # type: ignore[union-attr]
        envelope.recipients.append(recipient)
        envelope.rcpt_options[recipient] = list(options)

    def data(self) -> Answer:
        """DATA: on a final verdict the transaction ends."""
        self._next = TRANSITIONS[self.state, "data"]
        return self._run("data", self.txn, self._settled)

    def content(self, events: Events) -> Coroutine[Any, Any, None] | None:
        """Content events (filterd.content: header, end_of_headers, body) to their hooks, until a final verdict
        (kept in txn.final) or PASS ends inspection; None when done at once."""
        self._next = TRANSITIONS[self.state, "content"]
        return run_events_now(self.chain, self.txn, events)  # type: ignore[arg-type]

    def end_of_message(self, events: Events = ()) -> Transaction | Coroutine[Any, Any, Transaction]:
        """The end of the content: the events left, then end_of_message unless a verdict is final. The transaction
        comes back concluded (txn.final: its refusal, None when accepted) and the session is ready for the next."""
        self._next = TRANSITIONS[self.state, "end_of_message"]
        txn = self.txn
        pending = run_events_now(self.chain, txn, events) if events else None  # type: ignore[arg-type]
        if pending is not None:
            return self._end_later(txn, pending)  # type: ignore[arg-type]
        if txn.final is None:  # type: ignore[union-attr]
            verdict = self.chain.run_now("end_of_message", txn)
            if type(verdict) is CoroutineType:
                return then(verdict, self._concluded)
        return self._concluded()

    async def _end_later(self, txn: Transaction, pending: Coroutine[Any, Any, None]) -> Transaction:
        await pending
        if txn.final is None:
            await resolved(self.chain.run_now("end_of_message", txn))
        return self._concluded()

    def refuse(self, verdict: Verdict, logged: bool = True) -> Transaction:
        """The front end refuses the message before the chain decides (too big, bare newlines): logged as
        the chain's refusals are (unless the front end logs its own words), and the transaction concluded."""
        self._next = TRANSITIONS[self.state, "end_of_message"]
        self.txn.final = verdict  # type: ignore[union-attr]
        if logged:
            self.txn.log_verdict("end_of_message", verdict)  # type: ignore[union-attr]
        return self._concluded()

    def _concluded(self, _verdict: Verdict | None = None) -> Transaction:
        """The message decided: the transaction ends and comes back with its fate."""
        txn, self.txn = self.txn, None
        self.state = self._next[0]
        return txn  # type: ignore[return-value]

    def skip_to(self, state: State, sender: str | None = None) -> None:
        """Move on to `state` over the events the MTA did not send, as a milter may agree (no CONNECT, no MAIL,
        no DATA): as if the chain had let each through, no hook run; a skipped MAIL has `sender` (None: unknown)."""
        while self.state is not state:
            event = SKIPPED.get(self.state)
            if event is None:
                raise OutOfOrder(f"{state.value} from state {self.state.value}")
            self.state = TRANSITIONS[self.state, event][0]
            if event == "mail":
                envelope = Envelope(sender=sender, arrival=time.time())
                self.txn = Transaction(self.session, envelope, service=self.service, trace=self.trace)

    def abort(self) -> None:
        """RSET, a next hop's refusal, the MTA's ABORT: the transaction ends, nothing is delivered."""
        if self.state in OPEN:
            self.state, self.txn = TRANSITIONS[self.state, "abort"][0], None

    def disconnect(self) -> Answer | None:
        """The client went away: the disconnect hook's call, None when no plugin implements it."""
        if self.state is CLOSED:
            return None
        self._next = TRANSITIONS[self.state, "disconnect"]
        self._settle()
        self.txn = None
        if "disconnect" not in self.chain.hooks:
            return None
        return self.chain.run_now("disconnect", self._session_call())


def run_events_now(chain: Chain, txn: Transaction, events: Events) -> Coroutine[Any, Any, None] | None:
    """Give each content event to its hook, until a final verdict or PASS ends inspection: None when done at
    once, else a coroutine for the rest."""
    for index, (event, value) in enumerate(events):
        if txn.final is not None or txn.passed:
            return None
        verdict = _run_event(chain, txn, event, value)
        if not isinstance(verdict, Verdict):
            return _events_later(chain, txn, verdict, events[index + 1:])
    return None


async def run_events(chain: Chain, txn: Transaction, events: Events) -> None:
    """`run_events_now`, awaited."""
    pending = run_events_now(chain, txn, events)
    if pending is not None:
        await pending


async def _events_later(chain: Chain, txn: Transaction, pending: Coroutine, events: Events) -> None:
    await pending
    await run_events(chain, txn, events)


def _run_event(chain: Chain, txn: Transaction, event: str, value: Any) -> Answer:
    if event == HEADER:
        return chain.run_now("header", txn, subject=value, header=value)
    if event == END_OF_HEADERS:
        return chain.run_now("end_of_headers", txn)
    return chain.run_now("body", txn, subject=value, line=value.text)


EVENT_HOOKS = {HEADER: "header", END_OF_HEADERS: "end_of_headers", BODY: "body"}
"""The hook each content event runs."""
