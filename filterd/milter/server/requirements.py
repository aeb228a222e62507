"""What filterd's chain needs from the MTA, from the hooks its plugins implement, the arguments they take
and the changes they declare.

The MTA is asked to skip the steps no plugin reads, to expect no reply where no plugin decides, and
to send the macros filterd uses; filterd asks only for the actions its plugins' verdicts can take. Header
and body are asked for only when some plugin can see them: a header or body hook, or any hook that takes
the `message` argument (the pseudo-hook "message" below); the header, too, when a plugin may report an
authentication result, so that the Authentication-Results headers that claim filterd's authserv-id are removed. Client and envelope (CONNECT, HELO, MAIL, RCPT)
are asked for when a plugin decides on them, reads `session` or `envelope`, or may REDIRECT (which deletes
each recipient by name) or delete a recipient, as a plugin without a `changes` declaration may: the
pseudo-hook "envelope". Without them, CONNECT alone is asked for by a disconnect hook and by header and
body hooks (whose verdicts are logged with the client before end of message), and end of message brings
the client as macros otherwise.
"""

from __future__ import annotations

from functools import cache, lru_cache, reduce
from operator import or_

from filterd.chain import Chain
from filterd.hookspecs import CHAIN_HOOKS
from filterd.milter.protocol import codes
from filterd.milter.protocol.codes import Actions, Steps
from filterd.milter.protocol.negotiation import NOT_ANSWERED
from filterd.verdict import CHANGES, Action

MILTER_HOOKS = frozenset({"connect", "helo", "mail_from", "rcpt", "data", "header", "end_of_headers", "body",
                          "end_of_message"})
"""Hooks that run behind the milter protocol and may answer with a verdict or edits."""

READS_MESSAGE, READS_SESSION, READS_ENVELOPE = "message", "session", "envelope"
"""Arguments that make filterd ask the MTA for what they carry, whatever the hook (pseudo-hooks)."""

ENVELOPE_HOOKS = frozenset({"connect", "helo", "mail_from", "rcpt", "data", READS_ENVELOPE})
"""What makes filterd ask for CONNECT, HELO, MAIL and RCPT (a connect verdict is reported at MAIL)."""

RECIPIENT_CHANGES = frozenset({"redirect", "delete_recipient"})
"""Changes that need the recipients the MTA was given: a recipient is deleted by name, and only if it is one."""

CLIENT_HOOKS = frozenset({"disconnect", READS_SESSION, "header", "end_of_headers", "body"})
"""What makes filterd ask for CONNECT alone: the client, for a disconnect hook, a `session` reader, and the log
lines of header and body verdicts, written before end of message brings the client as macros."""

DECIDED_BY = {codes.CONNECT: "connect", codes.HELO: "helo", codes.MAIL: "mail_from", codes.RCPT: "rcpt",
              codes.DATA: "data", codes.HEADER: "header", codes.EOH: "end_of_headers", codes.BODY: "body",
              codes.UNKNOWN: ""}
"""The hook whose verdict answers each command ("" = none)."""

ACTIONS_OF = {"hold": Actions.QUARANTINE, "prepend": Actions.ADDHDRS | Actions.CHGBODY,
              "replace": Actions.CHGHDRS | Actions.CHGBODY, "ignore": Actions.CHGHDRS | Actions.CHGBODY,
              "strip": Actions.CHGHDRS | Actions.CHGBODY, "redirect": Actions.ADDRCPT | Actions.DELRCPT,
              "filter": Actions(0), "bcc": Actions.ADDRCPT, "add_header": Actions.ADDHDRS,
              "insert_header": Actions.ADDHDRS, "change_header": Actions.CHGHDRS, "delete_header": Actions.CHGHDRS,
              "replace_body": Actions.CHGBODY, "add_recipient": Actions.ADDRCPT | Actions.ADDRCPT_PAR,
              "delete_recipient": Actions.DELRCPT, "change_sender": Actions.CHGFROM,
              "symbol": Actions.ADDHDRS | Actions.QUARANTINE, "auth_result": Actions.ADDHDRS | Actions.CHGHDRS}
"""The milter actions each change needs (header_checks' line actions also act on body lines; a symbol, the score's
header and hold; an authentication result, Authentication-Results written and forged ones removed)."""

ACTIONS = reduce(or_, ACTIONS_OF.values())
"""Everything a verdict can ask for: header edits, body replacement, recipient and sender changes, HOLD."""

MACROS = {codes.CONNECT: "j {daemon_name}", codes.HELO: "{tls_version}", codes.MAIL: "i {auth_type} {auth_authen}",
          codes.RCPT: "i", codes.DATA: "i", codes.EOH: "i", codes.BODYEOB: "i"}
"""The macros filterd reads (queue id, SASL login, TLS, daemon name), asked for with SETSYMLIST."""

MACROS_WITHOUT_ENVELOPE = {**MACROS, codes.BODYEOB: "i {client_addr} {client_name}"}
"""The same when the MTA sends no client and envelope: end of message brings the client, for the log (Postfix's
cleanup, which sends end of message, has no sender macro for mail that smtpd received)."""


@lru_cache(maxsize=64)
def implemented(chain: Chain) -> frozenset[str]:
    """The chain hooks some configured plugin implements; "message", "session" and "envelope" when a hook that
    runs behind the milter takes them ("envelope" too when one may delete recipients); the changes those plugins may
    make (all of CHANGES for one without a declaration, "hold" if plugin_error_action quarantines)."""
    hooks = {hook for hook in CHAIN_HOOKS if chain.wants(hook)}
    behind = [impl for hook in MILTER_HOOKS for impl in chain.plugins.impls(hook)]
    taken = {name for impl in behind + list(chain.plugins.impls("disconnect")) for name in impl.argnames}
    changes = {change for impl in behind for change in (CHANGES if impl.changes is None else impl.changes)}
    if behind and chain.error_verdict.action is Action.HOLD:
        changes.add("hold")
    if changes & RECIPIENT_CHANGES or any(READS_SESSION in impl.argnames for impl in behind):
        taken.add(READS_ENVELOPE)
    return frozenset(hooks | changes | (taken & {READS_MESSAGE, READS_SESSION, READS_ENVELOPE}))


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
    if not hooks & {"header", "end_of_headers", "body", READS_MESSAGE, "auth_result"}:
        wanted |= Steps.NOHDRS
    if not hooks & {"body", READS_MESSAGE}:
        wanted |= Steps.NOBODY
    if "body" in hooks:
        wanted |= Steps.SKIP
    if not hooks & ENVELOPE_HOOKS:
        wanted |= Steps.NOHELO | Steps.NOMAIL | Steps.NORCPT
        if not hooks & CLIENT_HOOKS:
            wanted |= Steps.NOCONNECT
    return wanted


@cache
def actions(hooks: frozenset[str]) -> Actions:
    """Actions to ask for: those the changes the plugins behind the milter may make need."""
    wanted = Actions(0)
    for change in hooks & ACTIONS_OF.keys():
        wanted |= ACTIONS_OF[change]
    return wanted


@cache
def macros(hooks: frozenset[str]) -> dict[bytes, str]:
    """The macros to ask for with SETSYMLIST: the client at end of message if the MTA sends no CONNECT."""
    return MACROS_WITHOUT_ENVELOPE if steps(hooks) & Steps.NOCONNECT else MACROS
