"""The MTA side of the milter protocol for one milter, without I/O: what to send for each event, and what
each response means, as Postfix's milter8 client has it.

Replies use Postfix's internal form: an SMTP reply ("550 5.7.1 text"), "D" (discard), "H" (quarantine),
"S" (shutdown), or None (no news is good news). A milter that fails is in ERROR and answers every later
event with its default action's reply until the SMTP session ends.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from filterd.milter.protocol import codes
from filterd.milter.protocol.codes import Actions, Steps
from filterd.milter.protocol.commands import Abort, Macro, OptNeg, Quit
from filterd.milter.protocol.negotiation import NOT_SENT, Negotiated, agree
from filterd.milter.protocol.packets import Packet
from filterd.milter.protocol.responses import decode_response

REJECTED = "550 5.7.1 Command rejected"
TEMPFAILED = "451 4.7.1 Service unavailable - try again later"
DISCARD, HOLD, SHUTDOWN = "D", "H", "S"

COMM_ERROR = {"accept": None, "reject": "550 5.5.0 Service unavailable", "tempfail": TEMPFAILED, "quarantine": HOLD}
CONF_ERROR = {"accept": None, "reject": "451 4.3.5 Server configuration problem - try again later",
              "tempfail": "451 4.3.5 Server configuration problem - try again later", "quarantine": HOLD}
"""Default-action replies after a communication error and after a configuration error (milter8.c)."""

MY_ACTIONS = (Actions.ADDHDRS | Actions.CHGBODY | Actions.ADDRCPT | Actions.DELRCPT | Actions.CHGHDRS
              | Actions.QUARANTINE | Actions.CHGFROM | Actions.ADDRCPT_PAR | Actions.SETSYMLIST)
"""Everything filterd can carry out for a milter, offered in OPTNEG as Postfix does."""

_NOSEND = (Steps.NOCONNECT | Steps.NOHELO | Steps.NOMAIL | Steps.NORCPT | Steps.NOBODY | Steps.NOHDRS | Steps.NOEOH
           | Steps.NOUNKNOWN | Steps.NODATA)
_NOREPLY = (Steps.NR_CONN | Steps.NR_HELO | Steps.NR_MAIL | Steps.NR_RCPT | Steps.NR_DATA | Steps.NR_UNKN
            | Steps.NR_HDR | Steps.NR_EOH | Steps.NR_BODY)
_V2 = Steps.NOCONNECT | Steps.NOHELO | Steps.NOMAIL | Steps.NORCPT | Steps.NOBODY | Steps.NOHDRS | Steps.NOEOH
_V4 = _V2 | Steps.NOUNKNOWN | Steps.NODATA
EVENT_MASKS = {"2": _V2, "3": _V2 | Steps.NOUNKNOWN, "4": _V4,
               "6": _V4 | Steps.SKIP | Steps.RCPT_REJ | _NOREPLY | Steps.HDR_LEADSPC, "no_header_reply": Steps.NR_HDR}
"""milter_protocol words: the events each protocol version defines, and the no_header_reply extension."""

SMFIC = {getattr(codes, name): f"SMFIC_{name}" for name in (
    "ABORT", "BODY", "CONNECT", "MACRO", "BODYEOB", "HELO", "QUIT_NC", "HEADER", "MAIL", "EOH", "OPTNEG", "QUIT",
    "RCPT", "DATA", "UNKNOWN")}
SMFIR = {getattr(codes, name): f"SMFIR_{name}" for name in (
    "ADDRCPT", "DELRCPT", "ADDRCPT_PAR", "SHUTDOWN", "ACCEPT", "REPLBODY", "CONTINUE", "DISCARD", "CHGFROM",
    "CONN_FAIL", "ADDHEADER", "INSHEADER", "SETSYMLIST", "CHGHEADER", "PROGRESS", "QUARANTINE", "REJECT", "SKIP",
    "TEMPFAIL", "REPLYCODE")}

MODIFICATIONS = frozenset({codes.ADDHEADER, codes.INSHEADER, codes.CHGHEADER, codes.CHGFROM, codes.ADDRCPT,
                           codes.ADDRCPT_PAR, codes.DELRCPT, codes.REPLBODY})
_BARE = frozenset({codes.CONTINUE, codes.ACCEPT, codes.DISCARD, codes.REJECT, codes.TEMPFAIL, codes.SHUTDOWN,
                   codes.SKIP, codes.PROGRESS})
_CONNECT_STAGE = frozenset({codes.CONNECT, codes.HELO})


class State(enum.Enum):
    """milter8's states: where the dialogue is, or what the milter decided for the connection or message."""

    CLOSED = "closed"
    READY = "ready"
    ENVELOPE = "envelope"
    MESSAGE = "message"
    ACCEPT_CON = "accept connection"
    ACCEPT_MSG = "accept message"
    REJECT_CON = "reject connection"
    ERROR = "error"


ALLOWED = {codes.CONNECT: {State.READY}, codes.HELO: {State.ENVELOPE, State.ACCEPT_MSG},
           codes.MAIL: {State.ENVELOPE}, codes.RCPT: {State.ENVELOPE}, codes.DATA: {State.ENVELOPE},
           codes.UNKNOWN: {State.ENVELOPE}}
"""The states in which an envelope event still goes to the milter; in any other it gets the default reply."""


class MilterError(Exception):
    """The milter broke the protocol; `conf` when it asked for something impossible (a configuration error)."""

    def __init__(self, text: str, conf: bool = False):
        super().__init__(text)
        self.conf = conf


@dataclass(frozen=True)
class Protocol:
    """milter_protocol: the version sent in OPTNEG, and the events (SMFIP_NO*) that version defines."""

    version: int
    events: Steps

    @classmethod
    def parse(cls, text: str) -> Protocol:
        """"6", "2 no_header_reply", ...: exactly one version and any extensions."""
        version, events = 0, Steps(0)
        for word in text.replace(",", " ").split():
            if word not in EVENT_MASKS or (word.isdigit() and version):
                raise MilterError(f"bad protocol information: {word}", conf=True)
            version = int(word) if word.isdigit() else version
            events |= EVENT_MASKS[word]
        if not version:
            raise MilterError("no protocol version information", conf=True)
        return cls(version, events)


@dataclass(frozen=True)
class Request:
    """Bytes to send for one event, and whether a reply must be read before going on."""

    data: bytes
    expects_reply: bool


@dataclass(frozen=True)
class Decision:
    """The milter's answer to the event: a reply in Postfix's form (None = go on), and a warning to log."""

    reply: str | None
    warning: str = ""


class MilterDialogue:
    """One milter's dialogue for one SMTP session, as the MTA keeps it."""

    def __init__(self, protocol: Protocol, default_action: str = "tempfail"):
        self.protocol = protocol
        self.default_action = default_action
        self.state = State.CLOSED
        self.def_reply: str | None = None
        self.negotiated = Negotiated()
        self.macro_lists: dict[int, str] = {}
        self.skip_event: bytes | None = None
        self.awaiting: bytes = codes.OPTNEG
        self._body = ""
        self._before_message: str | None = None

    def offer(self) -> OptNeg:
        """SMFIC_OPTNEG: the protocol version, every action filterd can carry out, the version's events."""
        return OptNeg(self.protocol.version, int(MY_ACTIONS), int(self.protocol.events))

    def handshake(self, code: bytes, payload: bytes) -> None:
        """The milter's OPTNEG answer: agree, or raise MilterError (NegotiationError is one too)."""
        if code != codes.OPTNEG:
            raise MilterError(f'unexpected reply "{code.decode("latin-1")}" in initial handshake')
        reply = decode_response(code, payload)
        self.negotiated = agree(self.offer(), reply)  # type: ignore[arg-type]
        self.macro_lists = {stage: names for stage, names in reply.macros.items() if stage in set(codes.Stage)}
        self.state, self.def_reply, self.skip_event = State.READY, None, None

    def fail(self, conf: bool = False) -> str | None:
        """Enter ERROR: from now on every event gets the default action's reply."""
        self.state = State.ERROR
        self.def_reply = (CONF_ERROR if conf else COMM_ERROR)[self.default_action]
        return self.def_reply

    def accepts(self, event: bytes) -> bool:
        """Does this envelope event still go to the milter? On CONNECT, the dialogue begins."""
        if self.state not in ALLOWED[event]:
            return False
        if event == codes.CONNECT:
            self.state = State.ENVELOPE
        return True

    def begin_message(self) -> bool:
        """Does the message go to this milter? Only if it is still in the envelope, not done or failed."""
        if self.state is not State.ENVELOPE:
            return False
        self.state, self._body, self._before_message = State.MESSAGE, "", self.def_reply
        return True

    def message_done(self, reply: str | None) -> bool:
        """Stop sending the message: the milter has decided (a reply, or accept), or has failed."""
        return self.state is not State.MESSAGE or reply is not None

    def end_message(self) -> None:
        """Back to the envelope. What the milter decided about this message (quarantine, accept) ends with it:
        Postfix's cleanup talks to the milter about the content, and only a failure reaches its smtpd."""
        if self.state in (State.MESSAGE, State.ACCEPT_MSG):
            self.state, self.def_reply = State.ENVELOPE, self._before_message

    def request(self, event: bytes, command: Packet, macros: tuple[tuple[str, str], ...]) -> Request | None:
        """What to send for an event (its macros, then the command); None when the event is skipped."""
        flag = NOT_SENT.get(event)
        if flag is not None and flag & ~self.protocol.events & _NOSEND:
            return None
        if self.skip_event is not None:
            if self.skip_event == event:
                return None
            self.skip_event = None
        data = Macro(event.decode("latin-1"), macros).encode()
        if not self.negotiated.sends(event):
            return Request(data, False)
        expects = event == codes.BODYEOB or self.negotiated.expects_reply(event)
        self.awaiting = event
        return Request(data + command.encode(), expects)

    def abort(self) -> bytes:
        """SMFIC_ABORT when a message is under way: the transaction is over without an end of message."""
        if self.state not in (State.ENVELOPE, State.MESSAGE, State.ACCEPT_MSG):
            return b""
        self.state = State.ENVELOPE
        return Abort().encode()

    def quit(self) -> bytes:
        """SMFIC_QUIT at the end of the SMTP session, unless the milter is done with it already."""
        sending = self.state in (State.ENVELOPE, State.MESSAGE, State.ACCEPT_MSG)
        self.state, self.def_reply = State.CLOSED, None
        return Quit().encode() if sending else b""

    def response(self, code: bytes, payload: bytes) -> Decision | Packet | None:
        """One response packet: a Decision ends the answer, a Packet is a modification, None reads on."""
        event = self.awaiting
        if self._body == "open" and code != codes.REPLBODY:
            self._body = "locked"
        if code in _BARE and payload:
            raise MilterError(f"reply {SMFIR[code]} was followed by {len(payload)} data bytes")
        if code == codes.PROGRESS:
            return None
        if code == codes.QUARANTINE:
            decode_response(code, payload)
            self.def_reply = HOLD
            return None
        if code in MODIFICATIONS and event == codes.BODYEOB:
            return self._modification(code, payload)
        handle = _DECISIONS.get(code)
        if handle is None:
            name = SMFIR.get(code, "(unknown filter reply)")
            raise MilterError(f"unexpected filter response {name} after event {SMFIC.get(event, event)}")
        return handle(self, event, payload)

    def _modification(self, code: bytes, payload: bytes) -> Packet:
        packet = decode_response(code, payload)
        if code == codes.CHGHEADER and not packet.name:  # type: ignore[attr-defined]
            raise MilterError("null change header name", conf=True)
        if code == codes.REPLBODY:
            if self._body == "locked":
                raise MilterError("body replacement requests can't currently be mixed with other requests",
                                  conf=True)
            self._body = "open"
        return packet

    def _continue(self, event: bytes, payload: bytes) -> Decision:
        return Decision(self.def_reply)

    def _accept(self, event: bytes, payload: bytes) -> Decision:
        self.state = State.ACCEPT_CON if event in _CONNECT_STAGE else State.ACCEPT_MSG
        return Decision(self.def_reply)

    def _discard(self, event: bytes, payload: bytes) -> Decision:
        if event in _CONNECT_STAGE:
            return Decision(self.def_reply, "DISCARD action is not allowed for connect or helo")
        self.state = State.ACCEPT_MSG
        return Decision(DISCARD)

    def _refuse(self, event: bytes, reply: str) -> Decision:
        if event in _CONNECT_STAGE:
            self.state, self.def_reply = State.REJECT_CON, reply
        return Decision(reply)

    def _reject(self, event: bytes, payload: bytes) -> Decision:
        return self._refuse(event, REJECTED)

    def _tempfail(self, event: bytes, payload: bytes) -> Decision:
        return self._refuse(event, TEMPFAILED)

    def _shutdown(self, event: bytes, payload: bytes) -> Decision:
        self.state, self.def_reply = State.REJECT_CON, SHUTDOWN
        return Decision(SHUTDOWN)

    def _replycode(self, event: bytes, payload: bytes) -> Decision:
        text = decode_response(codes.REPLYCODE, payload).text  # type: ignore[attr-defined]
        if not well_formed(text):
            raise MilterError(f"malformed reply: {text}", conf=True)
        return self._refuse(event, unescape(text))

    def _skip(self, event: bytes, payload: bytes) -> Decision:
        self.skip_event = event
        return Decision(self.def_reply)


_DECISIONS = {codes.CONTINUE: MilterDialogue._continue, codes.ACCEPT: MilterDialogue._accept,
              codes.DISCARD: MilterDialogue._discard, codes.REJECT: MilterDialogue._reject,
              codes.TEMPFAIL: MilterDialogue._tempfail, codes.SHUTDOWN: MilterDialogue._shutdown,
              codes.REPLYCODE: MilterDialogue._replycode, codes.SKIP: MilterDialogue._skip}


def well_formed(reply: str) -> bool:
    """Postfix's check of SMFIR_REPLYCODE: `4xx` or `5xx`, a space or dash, an enhanced status of the same class."""
    return (len(reply) > 4 and reply[0] in "45" and reply[1:3].isdigit() and reply[3] in " -"
            and reply[4] == reply[0])


def unescape(reply: str) -> str:
    """Sendmail doubles '%' in replies: '%%' becomes '%', a single '%' goes."""
    out, chars = [], iter(reply)
    for char in chars:
        out.append(next(chars, "") if char == "%" else char)
    return "".join(out)
