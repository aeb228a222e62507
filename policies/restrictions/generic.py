"""The restrictions that decide alone, about whatever the list is about: permit, reject, defer, defer_if_permit,
warn_if_reject, reject_unauth_pipelining, sleep."""

from __future__ import annotations

import asyncio

from filterd import Verdict

from .evaluation import Check, defer_a_reject, defer_unless_rejected
from .names import restriction
from .replies import refusal


def _rejected(check: Check, text: str) -> str:
    name, kind = check.about
    return f"<{name}>: {kind} rejected: {text}"


@restriction("permit")
def permit(check: Check) -> Verdict:
    return Verdict.ok()


@restriction("reject")
def reject(check: Check) -> Verdict:
    return refusal(check.settings.codes["reject_code"], "5.7.1", _rejected(check, "Access denied"))


@restriction("defer")
def defer(check: Check) -> Verdict:
    return refusal(check.settings.codes["defer_code"], "4.3.2", _rejected(check, "Try again later"))


@restriction("defer_if_permit")
def defer_if_permit(check: Check) -> Verdict | None:
    """Defer unless a later restriction rejects: the reply waits for the end of the evaluation."""
    return defer_unless_rejected(check, refusal(450, "4.7.0", _rejected(check, "defer_if_permit requested")))


@restriction("defer_if_reject")
def defer_if_reject(check: Check) -> None:
    """A later restriction's reject is deferred instead."""
    defer_a_reject(check, refusal(450, "4.7.0", _rejected(check, "defer_if_reject requested")))


@restriction("warn_if_reject")
def warn_if_reject(check: Check) -> None:
    """The next restriction's reject is logged as a warning, not given."""
    check.warn_only = True


@restriction("reject_unauth_pipelining")
def reject_unauth_pipelining(check: Check) -> Verdict | None:
    """Reject a client that sent commands ahead of a reply it had to wait for: `503 5.5.0 <NAME>: CLASS rejected:
    Improper use of SMTP command pipelining`."""
    if not check.session.improper_pipelining:
        return None
    return refusal(503, "5.5.0", _rejected(check, "Improper use of SMTP command pipelining"))


def seconds(word: str) -> int:
    """sleep's argument: a number of seconds."""
    if not word.isdigit():
        raise ValueError("restriction sleep must be followed by number")
    return int(word)


@restriction("sleep", argument=seconds)
async def sleep(check: Check, pause: int) -> None:
    """Pause before the next restriction (the bots that talk before their turn give up)."""
    await asyncio.sleep(pause)
