"""Option negotiation (SMFIC_OPTNEG): the MTA offers a version, actions and protocol steps; the filter
answers with what it uses; from then on both sides agree which commands are sent and which are answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from filterd.milter.protocol import codes
from filterd.milter.protocol.codes import Actions, Steps
from filterd.milter.protocol.commands import OptNeg
from filterd.milter.protocol.framing import ProtocolError

MIN_VERSION = 2

NOT_SENT = {codes.CONNECT: Steps.NOCONNECT, codes.HELO: Steps.NOHELO, codes.MAIL: Steps.NOMAIL,
            codes.RCPT: Steps.NORCPT, codes.DATA: Steps.NODATA, codes.HEADER: Steps.NOHDRS,
            codes.EOH: Steps.NOEOH, codes.BODY: Steps.NOBODY, codes.UNKNOWN: Steps.NOUNKNOWN}
"""The step flag that asks the MTA not to send a command."""

NOT_ANSWERED = {codes.CONNECT: Steps.NR_CONN, codes.HELO: Steps.NR_HELO, codes.MAIL: Steps.NR_MAIL,
                codes.RCPT: Steps.NR_RCPT, codes.DATA: Steps.NR_DATA, codes.HEADER: Steps.NR_HDR,
                codes.EOH: Steps.NR_EOH, codes.BODY: Steps.NR_BODY, codes.UNKNOWN: Steps.NR_UNKN}
"""The step flag that tells the MTA the filter will not answer a command."""

NEVER_ANSWERED = frozenset({codes.MACRO, codes.ABORT, codes.QUIT, codes.QUIT_NC})

_NOT_SENT = {code: int(flag) for code, flag in NOT_SENT.items()}
_NOT_ANSWERED = {code: int(flag) for code, flag in NOT_ANSWERED.items()}


class NegotiationError(ProtocolError):
    """The two sides cannot agree: an unusable version, or actions the MTA did not offer."""


@dataclass(frozen=True)
class Negotiated:
    """What both sides agreed: protocol version, the filter's actions and its protocol steps."""

    version: int = codes.VERSION
    actions: int = 0
    steps: int = 0

    def sends(self, code: bytes) -> bool:
        """Does the MTA send this command at all?"""
        return not self.steps & _NOT_SENT.get(code, 0)

    def expects_reply(self, code: bytes) -> bool:
        """Does the MTA wait for an answer to this command?"""
        return code not in NEVER_ANSWERED and not self.steps & _NOT_ANSWERED.get(code, 0)

    @property
    def unanswered(self) -> frozenset[bytes]:
        """The commands the MTA waits for no answer to."""
        return _unanswered(self.steps)

    def allows(self, action: Actions) -> bool:
        return bool(self.actions & int(action))

    def has(self, step: Steps) -> bool:
        return bool(self.steps & int(step))


@lru_cache(maxsize=64)
def _unanswered(steps: int) -> frozenset[bytes]:
    return NEVER_ANSWERED | {code for code, flag in _NOT_ANSWERED.items() if steps & flag}


def answer(offer: OptNeg, actions: Actions, steps: Steps, macros: dict[int, str] | None = None) -> OptNeg:
    """The filter's reply: its wishes cut down to what the MTA offers; macro lists only with SETSYMLIST."""
    if offer.version < MIN_VERSION:
        raise NegotiationError(f"MTA protocol version {offer.version} is too old")
    granted = int(actions) & offer.actions
    lists = dict(macros or {}) if offer.actions & int(Actions.SETSYMLIST) else {}
    if lists:
        granted |= int(Actions.SETSYMLIST)
    return OptNeg(min(offer.version, codes.VERSION), granted, int(steps) & offer.steps, lists)


def agree(offer: OptNeg, reply: OptNeg) -> Negotiated:
    """Check the filter's reply against the offer, as Postfix does, and return the agreement."""
    if not MIN_VERSION <= reply.version <= offer.version:
        raise NegotiationError(f"protocol version {reply.version} conflict with MTA protocol version "
                               f"{offer.version}")
    if reply.actions & ~offer.actions:
        raise NegotiationError(f"request mask 0x{reply.actions:x} conflict with MTA request mask "
                               f"0x{offer.actions:x}")
    return Negotiated(reply.version, reply.actions, reply.steps)
