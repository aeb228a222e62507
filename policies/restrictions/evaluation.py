"""Evaluating restriction lists with Postfix's semantics: each list in order, its restrictions in order; a permit
(OK) ends that list only, a reject or defer (and DISCARD) ends the evaluation, DUNNO goes on; the other actions
(HOLD, PREPEND, FILTER, REDIRECT, BCC, WARN, INFO) are kept and the list goes on, as smtpd_check.c does."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from filterd import Action, ContentVerdict, Envelope, Session, Verdict, unquote_local

from .lists import Item


@dataclass
class Check:
    """What the restrictions are asked about at one SMTP event: the client, the envelope, the recipient at
    hand (None before RCPT, and after it unless it is the only one), the settings in force, and what the evaluation
    gathered so far."""

    session: Session
    envelope: Envelope
    settings: Any
    recipient: str | None = None
    protocol_state: str = "RCPT"
    """The SMTP command being answered, in Postfix's words (CONNECT, EHLO, HELO, MAIL, RCPT, VRFY, ETRN, DATA,
    END-OF-MESSAGE), as a policy server is told it."""
    site: str | None = None
    """At ETRN, the destination the client asks for (without its `@` or `#`), as smtpd's etrn_name."""
    kept: list[Verdict] = field(default_factory=list)
    defer_if_permit: Verdict | None = None
    """defer_if_permit's reply (and a temporary DNS failure's): given unless the evaluation ends in a reject."""
    defer_if_reject: Verdict | None = None
    """defer_if_reject's reply: given in place of a later reject."""
    warn_only: bool = False
    """warn_if_reject was the restriction before: the next reject is logged as a warning, not enforced."""
    warning: bool = False
    """The restriction at hand follows warn_if_reject: a reply it would keep for later is given now, as a warning."""
    rcptmap_checked: set[str] = field(default_factory=set)
    """"recipient" or "sender" once reject_unlisted_* asked about it (smtpd's *_rcptmap_checked): not again."""
    about: tuple[str, str] = ("", "")
    """The list being evaluated, as its replies name it: `<NAME>: CLASS rejected` (the recipient, "Recipient
    address"), for the restrictions (reject, defer, ...) that have no subject of their own."""

    def __post_init__(self) -> None:
        self.session = self.session.unforwarded()  # Postfix judges the connection's client, not XFORWARD's

    @property
    def sender(self) -> str | None:
        return self.envelope.sender


def defer_unless_rejected(check: Check, verdict: Verdict, action: str = "defer_if_permit") -> Verdict | None:
    """A deferral as DEFER_IF_PERMIT gives it: kept for the end of the evaluation (the first one), given unless
    something rejects; at once with the tempfail action `defer`, or after warn_if_reject (which makes it a
    warning)."""
    if action == "defer" or check.warning:
        return verdict
    check.defer_if_permit = check.defer_if_permit or verdict
    return None


def defer_a_reject(check: Check, verdict: Verdict) -> None:
    """A deferral given in place of a later reject (DEFER_IF_REJECT); the first one stands, as in smtpd."""
    check.defer_if_reject = check.defer_if_reject or verdict


async def run(item: Item, check: Check) -> Verdict | None:
    """One restriction's answer, awaited when it is a coroutine."""
    args = () if item.restriction.argument is None else (item.argument,)
    answer = item.restriction.function(check, *args)
    return await answer if inspect.isawaitable(answer) else answer


async def evaluate(items: tuple[Item, ...], check: Check) -> Verdict | None:
    """One list: OK when a restriction permits, a final verdict when one refuses, None when none decides. A list
    that a restriction after warn_if_reject opens (a table's result, a class) warns throughout, as in smtpd."""
    inherited = check.warning
    try:
        for item in items:
            warning = check.warn_only or inherited
            check.warning, check.warn_only = warning, False
            verdict = await run(item, check)
            if verdict is None or verdict.action is Action.DUNNO:
                continue
            if warning and verdict.action in (Action.REJECT, Action.DEFER):
                check.kept.append(Verdict.reject_warning(verdict))
                continue
            if verdict.action is Action.OK or verdict.final:
                return deferred(verdict, check)
            check.kept.append(verdict)
        return None
    finally:
        check.warning = inherited


def deferred(verdict: Verdict, check: Check) -> Verdict:
    """A reject after defer_if_reject is that restriction's deferral; anything else stands."""
    if check.defer_if_reject is not None and verdict.action is Action.REJECT:
        return check.defer_if_reject
    return verdict


SUBJECTS = {
    "smtpd_client_restrictions": "Client host", "smtpd_helo_restrictions": "Helo command",
    "smtpd_sender_restrictions": "Sender address", "smtpd_relay_restrictions": "Recipient address",
    "smtpd_recipient_restrictions": "Recipient address", "smtpd_data_restrictions": "Data command",
    "smtpd_end_of_data_restrictions": "End-of-data", "smtpd_etrn_restrictions": "Etrn command",
}
"""Each list's class of reply, as smtpd_check.c names it."""


def subject(name: str, check: Check) -> tuple[str, str]:
    """What a list's replies name: the client, the HELO name, the sender, the recipient, DATA, END-OF-MESSAGE or the
    ETRN domain, and its class."""
    what = {"smtpd_client_restrictions": check.session.client, "smtpd_helo_restrictions": check.session.helo,
            "smtpd_sender_restrictions": unquote_local(check.sender or ""), "smtpd_data_restrictions": "DATA",
            "smtpd_end_of_data_restrictions": "END-OF-MESSAGE", "smtpd_etrn_restrictions": check.site or ""}
    return what.get(name, unquote_local(check.recipient or "")), SUBJECTS[name]


async def decide(lists: list[tuple[str, tuple[Item, ...]]], check: Check) -> Verdict | None:
    """Every list in turn, as smtpd checks client, helo, sender, relay and recipient restrictions at RCPT: the
    first refusal, else defer_if_permit's reply, else the kept actions (None when there are none)."""
    for name, items in lists:
        check.about = subject(name, check)
        verdict = await evaluate(items, check)
        if verdict is not None and verdict.final:
            return logged_first(verdict, check.kept)
    if check.defer_if_permit is not None:
        return logged_first(check.defer_if_permit, check.kept)
    return kept(check.kept)


LOGGED = (Action.WARN, Action.INFO, Action.HOLD, Action.FILTER, Action.REDIRECT, Action.BCC)
"""The kept actions that a refusal after them does not take away: the log lines (WARN, INFO, warn_if_reject's
reject_warning), which smtpd logs as it meets them, and the actions it saves for the whole transaction as it meets
them (HOLD, FILTER, REDIRECT, BCC: a later recipient's message is held or routed so)."""


def logged_first(refusal: Verdict, verdicts: list[Verdict]) -> Verdict:
    """A refusal carrying the log lines and saved actions met before it, for the core to log and apply first."""
    lines = tuple(verdict for verdict in verdicts if verdict.action in LOGGED)
    return ContentVerdict.of(refusal, earlier=lines) if lines else refusal


def kept(verdicts: list[Verdict]) -> Verdict | None:
    """The non-final actions as one answer: the last, carrying those before it for the core to fold in first."""
    if not verdicts:
        return None
    if len(verdicts) == 1:
        return verdicts[0]
    return ContentVerdict.of(verdicts[-1], earlier=tuple(verdicts[:-1]))
