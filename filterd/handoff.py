"""The hand-off from a front end to where accepted mail goes (filterd.nexthop: a downstream SMTP server
in-session, the queue, a sink directory): the NextHop interface, its Reply, and the Routing it is told.

A next hop sees a transaction in order: begin (MAIL), recipient (RCPT, repeated), deliver (the
edited message) or abort (with what there was of the message when the client hung up inside it). Every reply it gives is the one the client gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from filterd.content import Header
from filterd.model import Envelope, Message, Session


@dataclass(frozen=True)
class Reply:
    """An SMTP reply: code and text (the text may hold several lines, joined by newlines)."""

    code: int
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 400

    def wire(self) -> str:
        """The reply as it goes on the wire, multi-line replies as code-text lines."""
        lines = self.text.split("\n") or [""]
        return "\r\n".join(f"{self.code}{'-' if i < len(lines) - 1 else ' '}{line}" for i, line in enumerate(lines))

    def __str__(self) -> str:
        return f"{self.code} {self.text.replace(chr(10), ' ')}"


@dataclass(frozen=True)
class Routing:
    """What the chain decided beyond accept/refuse, for next hops that keep it (the queue)."""

    hold: str | None = None
    filter: str | None = None
    redirect: str | None = None
    bcc: tuple[str, ...] = ()


@dataclass(frozen=True)
class CutShort:
    """What a client that hung up inside DATA had sent, as far as Postfix's cleanup had processed it: the headers
    a whole line followed, and whether such a line ended the header section."""

    headers: tuple[Header, ...] = ()
    header_done: bool = False
    too_big: bool = False
    """Refused for passing message_size_limit, which Postfix's cleanup met too (its queue file holds more)."""


class NextHop(Protocol):
    """One transaction's path onward."""

    relay: str
    logs_delivery: bool

    async def begin(self, session: Session, envelope: Envelope) -> Reply: ...

    async def recipient(self, address: str, options: list[str]) -> Reply: ...

    async def restart(self, sender: str, recipients: tuple[str, ...]) -> Reply: ...

    async def deliver(self, message: Message, routing: Routing) -> Reply: ...

    async def abort(self, cut: CutShort | None = None) -> None:
        """The transaction ends undelivered; `cut` when the client hung up inside DATA."""
