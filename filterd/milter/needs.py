"""What filterd's chain needs from the MTA, from the hooks its plugins implement and the arguments they take.

The MTA is asked to skip the steps no plugin reads, to expect no reply where no plugin decides, and
to send the macros filterd uses; filterd asks only for the actions its verdicts can produce. Header and
body are asked for only when some plugin can see them: a header or body hook, or any hook that takes the
`message` argument (the pseudo-hook "message" below). Client and envelope (CONNECT, HELO, MAIL, RCPT) are
asked for whenever a plugin runs behind the milter, even one that reads neither: any verdict may be a
REDIRECT, which deletes each recipient, and is logged in Postfix's words with client, sender, recipient
and HELO name. With no such plugin, CONNECT is still asked for by a disconnect hook or a `session` reader.
"""

from __future__ import annotations

from functools import cache, lru_cache

from filterd.chain import Chain
from filterd.hookspecs import CHAIN_HOOKS
from filterd.milter import codes
from filterd.milter.codes import Actions, Steps
from filterd.milter.negotiation import NOT_ANSWERED

MILTER_HOOKS = frozenset({"connect", "helo", "mail_from", "rcpt", "data", "header", "end_of_headers", "body",
                          "end_of_message"})
"""Hooks that run behind the milter protocol and may answer with a verdict or edits."""

READS_MESSAGE, READS_SESSION = "message", "session"
"""Arguments that make filterd ask the MTA for what they carry, whatever the hook (pseudo-hooks)."""

DECIDED_BY = {codes.CONNECT: "connect", codes.HELO: "helo", codes.MAIL: "mail_from", codes.RCPT: "rcpt",
              codes.DATA: "data", codes.HEADER: "header", codes.EOH: "end_of_headers", codes.BODY: "body",
              codes.UNKNOWN: ""}
"""The hook whose verdict answers each command ("" = none)."""

ACTIONS = (Actions.ADDHDRS | Actions.CHGHDRS | Actions.CHGBODY | Actions.ADDRCPT | Actions.DELRCPT
           | Actions.ADDRCPT_PAR | Actions.CHGFROM | Actions.QUARANTINE)
"""Everything a verdict can ask for: header edits, body replacement, recipient and sender changes, HOLD."""

MACROS = {codes.CONNECT: "j {daemon_name}", codes.HELO: "{tls_version}", codes.MAIL: "i {auth_authen}",
          codes.RCPT: "i", codes.DATA: "i", codes.EOH: "i", codes.BODYEOB: "i"}
"""The macros filterd reads (queue id, SASL login, TLS, daemon name), asked for with SETSYMLIST."""


@lru_cache(maxsize=64)
def implemented(chain: Chain) -> frozenset[str]:
    """The chain hooks some configured plugin implements, with "message" and "session" when a hook that
    runs behind the milter takes them."""
    hooks = {hook for hook in CHAIN_HOOKS if chain.wants(hook)}
    taken = {name for hook in MILTER_HOOKS | {"disconnect"} for impl in chain.plugins.impls(hook)
             for name in impl.argnames}
    return frozenset(hooks | (taken & {READS_MESSAGE, READS_SESSION}))


@cache
def steps(hooks: frozenset[str]) -> Steps:
    """Protocol steps to ask for: no reply where no hook decides, no event that nothing reads."""
    wanted = Steps.HDR_LEADSPC | Steps.NOUNKNOWN
    for code, hook in DECIDED_BY.items():
        if hook not in hooks:
            wanted |= NOT_ANSWERED[code]
    if "data" not in hooks:
        wanted |= Steps.NODATA
    if "end_of_headers" not in hooks:
        wanted |= Steps.NOEOH
    if not hooks & {"header", "end_of_headers", "body", READS_MESSAGE}:
        wanted |= Steps.NOHDRS
    if not hooks & {"body", READS_MESSAGE}:
        wanted |= Steps.NOBODY
    if "body" in hooks:
        wanted |= Steps.SKIP
    if not hooks & MILTER_HOOKS:
        wanted |= Steps.NOHELO | Steps.NOMAIL | Steps.NORCPT
        if not hooks & {"disconnect", READS_SESSION}:
            wanted |= Steps.NOCONNECT
    return wanted


@cache
def actions(hooks: frozenset[str]) -> Actions:
    """Actions to ask for: all a verdict can produce, none when no plugin runs behind the milter."""
    return ACTIONS if hooks & MILTER_HOOKS else Actions(0)
