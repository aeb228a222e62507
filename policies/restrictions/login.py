"""Who may send as whom: the SASL login names that own a sender address (smtpd_sender_login_maps), the
restrictions that hold a client to them, and access(5) tables of login names (check_sasl_access)."""

from __future__ import annotations

import logging
import re

from filterd import Verdict, lookup_address, unquote_local

from .access import table, table_verdict
from .evaluation import Check
from .names import restriction
from .replies import refusal


def owners(check: Check, sender: str) -> list[str] | None:
    """The login names that own the sender, as Postfix's mail_addr_find looks it up: user+foo@domain in every
    table, then of fixed-string tables user@domain, user+foo and user alone when the domain is local, then @domain;
    None when no table knows the address."""
    rules = check.settings.rules
    found = lookup_address(check.settings.login_maps, rules.rewrite(sender), rules, check.settings.delimiters)
    return None if found is None else [name for name in re.split(r"[,\s]+", found[0]) if name]


def _mismatch(check: Check, authenticated: bool, unauthenticated: bool, known_only: bool = False) -> Verdict | None:
    """553 5.7.1 when a logged-in client sends as an address it does not own (`not owned by user U`), or a
    client that did not log in sends as an address that has an owner (`not logged in`)."""
    sender = unquote_local(check.sender or "")
    if not sender or not check.settings.login_maps:
        return None
    found, user = owners(check, sender), check.session.sasl_username
    if user and authenticated and not (known_only and found is None):
        if user.lower() not in (name.lower() for name in found or ()):
            return refusal(553, "5.7.1", f"<{sender}>: Sender address rejected: not owned by user {user}")
    if not user and unauthenticated and found is not None:
        return refusal(553, "5.7.1", f"<{sender}>: Sender address rejected: not logged in")
    return None


@restriction("reject_sender_login_mismatch")
def reject_sender_login_mismatch(check: Check) -> Verdict | None:
    """Both of the two below."""
    return _mismatch(check, authenticated=True, unauthenticated=True)


@restriction("reject_authenticated_sender_login_mismatch")
def reject_authenticated_sender_login_mismatch(check: Check) -> Verdict | None:
    """A logged-in client may send only as an address its login name owns."""
    return _mismatch(check, authenticated=True, unauthenticated=False)


@restriction("reject_known_sender_login_mismatch")
def reject_known_sender_login_mismatch(check: Check) -> Verdict | None:
    """A logged-in client may send as an address with an owner only if it is that owner."""
    return _mismatch(check, authenticated=True, unauthenticated=True, known_only=True)


@restriction("reject_unauthenticated_sender_login_mismatch")
def reject_unauthenticated_sender_login_mismatch(check: Check) -> Verdict | None:
    """A client that did not log in may not send as an address that has an owner."""
    return _mismatch(check, authenticated=False, unauthenticated=True)


_log = logging.getLogger("filterd.restrictions")


def printable(text: str) -> str:
    """The name as replies show it: what is not printable ASCII or UTF-8 letters as `_` (Postfix's printable())."""
    return "".join(char if char.isprintable() else "_" for char in text)


@restriction("check_sasl_access", argument=table)
async def check_sasl_access(check: Check, access_table) -> Verdict | None:
    """Look the client's SASL login name up in an access(5) table: `<NAME>: SASL login name rejected: ...`; without
    smtpd_sasl_auth_enable, Postfix's warning and nothing."""
    if not check.settings.sasl_enabled:
        _log.warning("warning: restriction `check_sasl_access' ignored: no SASL support", extra={"service": "smtpd"})
        return None
    user = check.session.sasl_username
    result = access_table.lookup(user) if user else None
    if result is None:
        return None
    return await table_verdict(check, result, printable(user), "SASL login name", access_table.spec)
