"""access(5) tables in restrictions: the keys Postfix tries, in its order, and what a table's answer means there
(OK, REJECT, DEFER, 4NN/5NN text, HOLD, DISCARD, FILTER, PREPEND, REDIRECT, BCC, WARN, INFO, DUNNO, or a
restriction list naming no table: a table is opened at start-up, so a list that needs one is a restriction class),
as smtpd_check.c's check_table_result reads it."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from filterd import PartialKey, Verdict, open_table

from .domains import access_keys, address_keys, domain_keys
from .evaluation import Check, defer_a_reject, defer_unless_rejected, evaluate
from .lists import Item, parse
from .replies import dsn_fix, refusal

_DSN = re.compile(r"([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)")
_NUMERIC = re.compile(r"([45]\d\d)(?:\s+|$)")
_ACTIONS = {"HOLD": Verdict.hold, "DISCARD": Verdict.discard}
_LOG_LINES = {"WARN": Verdict.warn, "INFO": Verdict.info}
"""The actions that only log the table's text (none when it has none), as smtpd's log_whatsup()."""
_ARGUMENTS = {"FILTER": Verdict.filter, "PREPEND": Verdict.prepend, "REDIRECT": Verdict.redirect,
              "BCC": Verdict.bcc}
_NOT_AT_ETRN = frozenset({"HOLD", "DISCARD", "FILTER", "REDIRECT", "BCC"})
"""The actions on a message: ETRN has none, and smtpd ignores them there with a warning."""
_TRIGGERS = frozenset({"FILTER", "REDIRECT", "BCC"})
"""The actions smtpd logs as `<NAME>: CLASS triggers ACTION ARGUMENT` (smtpd_check.c's check_table_result)."""
CONFIGURATION_ERROR = refusal(451, "4.3.5", "Server configuration error")
_log = logging.getLogger("filterd.restrictions")
_SMTPD = {"service": "smtpd"}


def forbidden_ok(restriction_name: str, target: str) -> Verdict:
    """An OK where it would let a forged name or a borrowed server in: Postfix's three warnings (forbid_allowlist)
    and 451 4.3.5 Server configuration error."""
    for line in (f"restriction {restriction_name} returns OK for {target}", "this is not allowed for security reasons",
                 "use DUNNO instead of OK if you want to make an exception"):
        _log.warning("warning: %s", line, extra=_SMTPD)
    return CONFIGURATION_ERROR


def table(spec: str):
    """A restriction's table argument, opened at start-up (a TableError names what is wrong)."""
    return open_table(spec, service="smtpd")


def client_keys(check: Check, name: str | None = None) -> list[str]:
    """The client's name (or the name given) and its parent domains when it has one, then its address and address
    prefixes."""
    name = check.session.client_name if name is None else name
    names = access_keys(name, check.settings.parent_style("smtpd_access_maps")) if name != "unknown" else []
    return names + address_keys(check.session.client_address)


def resolved(check: Check, address: str) -> str:
    """The address an access table is asked about: as trivial-rewrite rewrites and resolves it (bob is
    bob@$myorigin, user%host@here is user@host), as smtpd's check_mail_access asks; the null address stays null."""
    if not address:
        return address
    rules = check.settings.rules
    return rules.resolve(rules.rewrite(address)).recipient


def mail_keys(check: Check, address: str) -> list[str]:
    """An address's keys: user+foo@domain, then (of fixed-string tables only, as mail_addr_find asks them) user@domain
    (recipient_delimiter), the domain, its parents, user+foo@ and user@; the null sender's is <> (its own
    parameter); an address without a domain is looked up as it is."""
    if not address:
        return [check.settings.null_key]
    local, at, domain = address.lower().rpartition("@")
    if not at:
        return [domain]
    domains = domain_keys(domain, check.settings.parent_style("smtpd_access_maps"))
    bare = check.settings.delimiters.split(local)
    return [f"{local}@{domain}", *([PartialKey(f"{bare[0]}@{domain}")] if bare else []), *map(PartialKey, domains),
            PartialKey(f"{local}@"), *([PartialKey(f"{bare[0]}@")] if bare else [])]


async def check_access(check: Check, access_table, keys: list[str], name: str, kind: str) -> Verdict | None:
    """The first key the table answers (a PartialKey only when its keys are strings), its answer read as a
    restriction's verdict."""
    for key in keys:
        if type(key) is PartialKey and not access_table.fixed:
            continue
        result = access_table.lookup(key)
        if result is not None:
            return await table_verdict(check, result, name, kind, access_table.spec)
    return None


async def table_verdict(check: Check, result: str, name: str, kind: str, spec: str = "") -> Verdict | None:
    """What one access table (`spec`) result means, about `<name>` of `kind` ("Sender address", ...)."""
    word, _, text = result.strip().partition(" ")
    text, upper = text.strip(), word.upper()
    if check.protocol_state == "ETRN" and upper in _NOT_AT_ETRN:
        _log.warning("warning: access table %s: action %s is unavailable in smtpd_etrn_restrictions", spec, upper,
                     extra=_SMTPD)
        return None
    if upper in ("OK", "RELAY") or word.isdigit() and not _NUMERIC.match(result.strip()):
        return Verdict.ok()
    if upper == "DUNNO":
        return None
    if upper in ("REJECT", "DEFER", "DEFER_IF_PERMIT", "DEFER_IF_REJECT") or _NUMERIC.match(result.strip()):
        return refused(check, result.strip(), name, kind)
    if upper in _ACTIONS:
        return _ACTIONS[upper](f"<{name}>: {kind} {text or f'triggers {upper} action'}")
    if upper in _LOG_LINES:
        return _LOG_LINES[upper](text)
    if upper in _ARGUMENTS and text:
        verdict = _ARGUMENTS[upper](text)
        return replace(verdict, logged=f"<{name}>: {kind} triggers {upper} {text}") if upper in _TRIGGERS else verdict
    if ":" in result:
        return CONFIGURATION_ERROR
    try:
        items = nested(result, check.settings)
    except ValueError:
        return CONFIGURATION_ERROR
    return await evaluate(items, check)


def refused(check: Check, result: str, name: str, kind: str) -> Verdict | None:
    """REJECT, DEFER, DEFER_IF_PERMIT and `4NN text` / `5NN text`: the code, the status (given or 4.7.1/5.7.1)
    and `<NAME>: KIND rejected: TEXT`; DEFER_IF_PERMIT is kept for the end of the evaluation, DEFER_IF_REJECT for a
    later reject."""
    codes = check.settings.codes
    word, _, text = result.partition(" ")
    numeric = _NUMERIC.match(result)
    code = int(numeric[1]) if numeric else codes["access_map_reject_code"] if word.upper() == "REJECT" \
        else codes["access_map_defer_code"]
    text = text.strip()
    given = _DSN.match(text)
    dsn, text = (dsn_fix(given[1], kind), text[given.end():]) if given else (f"{str(code)[0]}.7.1", text)
    default = "Service unavailable" if word.upper().startswith("DEFER_IF_") else "Access denied"
    verdict = refusal(code, dsn, f"<{name}>: {kind} rejected: {text or default}")
    if word.upper() == "DEFER_IF_PERMIT":
        return defer_unless_rejected(check, verdict)
    if word.upper() == "DEFER_IF_REJECT":
        defer_a_reject(check, verdict)
        return None
    return verdict


def nested(result: str, settings) -> tuple[Item, ...]:
    """A table result that is a restriction list (or a restriction class), read once per chain."""
    cache = settings.results_read
    if result not in cache:
        if len(cache) > 1024:
            cache.clear()
        cache[result] = parse(result, settings.classes)
    return cache[result]
