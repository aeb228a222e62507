"""Every hook a filterd plugin can implement, grouped by stage.

A hook receives any subset of its named arguments (pluggy passes only those the implementation
declares). It may be a plain function or a coroutine: filterd awaits what is awaitable. A chain hook
answers with a `filterd.Verdict`, a Postfix action string such as "REJECT 5.7.1 no thanks" (read as a
Postfix table result), or None:

- None or DUNNO: no opinion; the next plugin is asked.
- OK: accepted; no later plugin is asked about this event (the next event asks them all again).
- REJECT, DEFER, DISCARD: final; the chain ends and the verdict decides (each hook says what it refuses).
- anything else (HOLD, REDIRECT, BCC, FILTER, PREPEND, WARN, INFO, header and body edits...): folded into
  the transaction, and the chain goes on.

Plugins run in `filterd_plugins` order. Edits carried by verdicts are applied by the core once the chain
is done, never by a plugin. Any verdict may also carry symbols (`Verdict.symbol`, `verdict.with_symbol`): named
weights that the core sums into the message's score and weighs against the filterd_score_* thresholds at the end
of end_of_message and of queue. A plugin in filterd_observe_plugins has its final verdicts logged as
reject_warning, not enforced. `settings` is what the plugin's own `configure` hook returned (None without
one): a plugin keeps its configuration there, or on its instance, not in module globals.

From mail_from on, a verdict may also report authentication results (`Verdict.auth_result`, `with_auth_result`:
a `filterd.AuthResult` such as spf=pass smtp.mailfrom=example.org). Later plugins read those reported so far in
the transaction as the `auth_results` argument (a tuple, in the order reported), and at the end of end_of_message
(and of queue) the core writes them in one Authentication-Results header, authserv-id = myhostname, having removed
the incoming ones that claim that authserv-id.
"""

from __future__ import annotations

from typing import Any, Iterable

import pluggy

from filterd.config import Config, Parameter
from filterd.model import Envelope, Header, Message, Session
from filterd.verdict import AuthResult, Verdict

hookspec = pluggy.HookspecMarker("filterd")

# ---------------------------------------------------------------------------
# Start-up: declaring and reading configuration.
# ---------------------------------------------------------------------------


@hookspec
def parameters(config: Config) -> dict[str, str] | Iterable[Parameter] | None:
    """Declare this plugin's main.cf parameters at start-up.

    Return a dict of name -> default value (strings, main.cf syntax, `$name` allowed) or a list of
    `filterd.Parameter`; None declares none. A parameter nobody declares is a start-up error naming file:line.
    `config` is main.cf as read so far, unchecked (any name allowed): for a plugin whose parameter names main.cf
    itself gives, as Postfix's smtpd_restriction_classes names its restriction classes.
    """


@hookspec
def configure(config: Config) -> Any:
    """Called once per chain, at start-up (before worker processes are forked), with the configuration checked.

    `config` is the `filterd.Config` in force; read your parameters here (`config.get(name)`,
    `config.int(name)`, `config.time(name)`, `config.list(name)`, ...). The return value is this plugin's
    settings: filterd passes it to the plugin's hooks that take a `settings` argument (None: nothing to pass).
    Refuse a value with `raise filterd.ParameterError(name, reason)`: filterd stops with
    `filterd: fatal: main.cf:LINE: NAME: reason`.
    """


@hookspec
def changes(settings: Any) -> Iterable[str] | None:
    """Declare the changes this plugin's verdicts can make, as a libmilter filter declares its actions.

    Called once after `configure`. Return the names of the Verdict constructors and action words that
    change the message or where it goes, e.g. {"add_header"} or {"prepend", "redirect"} (all of them:
    `filterd.CHANGES`); an empty set for a plugin that only decides. Replies (OK, DUNNO, REJECT,
    DEFER, DISCARD, WARN, INFO, PASS) need no declaration. Without this hook, or returning None, a plugin
    may make any change. With it, a verdict making an undeclared change is a plugin error
    (plugin_error_action), and a name not in `filterd.CHANGES` stops filterd at start-up. The milter asks
    the MTA for less when it knows more: with no plugin able to
    REDIRECT or delete a recipient and none reading `session` or `envelope` or deciding before DATA,
    Postfix sends no HELO, sender or recipient events, and only the actions declared are negotiated.
    """


# ---------------------------------------------------------------------------
# Built-in stage: while the message is received, one call per SMTP event.
# Postfix analogue: smtpd restrictions, cleanup header_checks / body_checks.
# ---------------------------------------------------------------------------


@hookspec
def connect(session: Session, settings: Any) -> Verdict | str | None:
    """A client connected. `session` is the `filterd.Session` (client_address, client_name, ...).

    REJECT or DEFER refuses the client's mail transactions (reported at MAIL and RCPT, as
    Postfix's smtpd_delay_reject does); DISCARD accepts and drops every message of the session.
    None, DUNNO or OK let it in; nothing else applies, as there is no message yet.
    """


@hookspec
def helo(session: Session, hostname: str, extended: bool, settings: Any) -> Verdict | str | None:
    """The client sent EHLO (`extended`) or HELO `hostname` (also in `session.helo` while the hook runs;
    `session.protocol` is still the one before, as Postfix logs a refusal: `proto=SMTP` for a first EHLO).

    REJECT or DEFER answers the HELO/EHLO command with that reply (the client may try again).
    None, DUNNO or OK accept it; nothing else applies, as there is no message yet.
    """


@hookspec
def mail_from(session: Session, envelope: Envelope, sender: str, settings: Any,
              auth_results: tuple[AuthResult, ...]) -> Verdict | str | None:
    """MAIL FROM:<sender> with `envelope.mail_options` (SIZE, BODY, SMTPUTF8, ...).

    `sender` is "" for the null sender. REJECT or DEFER refuses the command; the transaction
    does not start. `envelope.queue_id` is already assigned. DISCARD accepts the message and drops it;
    HOLD, REDIRECT, BCC, FILTER, PREPEND (a header) and edits apply to the message. None, DUNNO or OK accept.
    """


@hookspec
def rcpt(session: Session, envelope: Envelope, recipient: str, settings: Any,
         auth_results: tuple[AuthResult, ...]) -> Verdict | str | None:
    """RCPT TO:<recipient>. `envelope.recipients` holds those accepted so far.

    REJECT or DEFER refuses this recipient only. DISCARD accepts it and drops the whole message;
    REDIRECT, BCC, HOLD, FILTER, PREPEND (a header) and edits apply to the whole message, as in Postfix.
    None, DUNNO or OK accept the recipient.
    """


@hookspec
def vrfy(session: Session, envelope: Envelope, recipient: str, settings: Any,
         auth_results: tuple[AuthResult, ...]) -> Verdict | str | None:
    """VRFY <recipient>: would the recipient be accepted? Postfix answers with its recipient restrictions.

    `envelope` is a copy of the transaction's (its sender, recipients, queue id) during one, else empty with
    sender None. REJECT or DEFER answers VRFY with that reply; None, DUNNO, OK or anything else: Postfix's
    `252 2.0.0`, and nothing is kept (no HOLD, edit or DISCARD reaches a message).
    """


@hookspec
def etrn(session: Session, site: str, settings: Any) -> Verdict | str | None:
    """ETRN <site>: outside a mail transaction, the client asks for the mail queued for a destination (RFC 1985).

    REJECT or DEFER answers ETRN with that reply; None, DUNNO, OK or anything else let it go on to
    fast_flush_domains (Postfix's 250 or 459). Postfix analogue: smtpd_etrn_restrictions, after the client and HELO
    restrictions with smtpd_delay_reject.
    """


@hookspec
def data(session: Session, envelope: Envelope, settings: Any,
         auth_results: tuple[AuthResult, ...]) -> Verdict | str | None:
    """The client sent DATA, all recipients known (`envelope.recipients`).

    REJECT or DEFER refuses DATA (Postfix's smtpd_data_restrictions); the transaction ends. DISCARD
    accepts the message and drops it; HOLD, REDIRECT, BCC, FILTER, PREPEND (a header) and edits apply to
    the message. None, DUNNO or OK let the content come.
    """


@hookspec
def header(session: Session, envelope: Envelope, message: Message, header: Header, settings: Any,
           auth_results: tuple[AuthResult, ...]) -> Verdict | str | None:
    """One logical header (`filterd.Header`: name, value, text, raw), in order, as it arrives.

    `message.headers` holds the headers seen so far, smtpd's Received: header first.
    PREPEND inserts a header before this one, REPLACE replaces it, IGNORE and STRIP delete
    it (STRIP logs), as header_checks(5). REJECT, DEFER, DISCARD are reported after the data
    is in. PASS turns off content inspection (header, body, end_of_message) for this message.
    HOLD, REDIRECT, BCC, FILTER and edits apply to the message. None, DUNNO or OK keep the header.
    """


@hookspec
def end_of_headers(session: Session, envelope: Envelope, message: Message, settings: Any,
                   auth_results: tuple[AuthResult, ...]) -> Verdict | str | None:
    """The header section is complete (`message.headers`); the body follows.

    REJECT, DEFER, DISCARD are reported after the data is in; PASS turns off content inspection; PREPEND
    adds a header at the top; HOLD, REDIRECT, BCC, FILTER and edits apply to the message. None, DUNNO or OK:
    nothing.
    """


@hookspec
def body(session: Session, envelope: Envelope, message: Message, line: bytes, settings: Any,
         auth_results: tuple[AuthResult, ...]) -> Verdict | str | None:
    """One body line (bytes, no line ending), as body_checks(5) sees it; overlong lines come in pieces.

    Only called when some plugin implements it. PREPEND inserts a line before this one, REPLACE
    replaces it, IGNORE and STRIP delete it, as body_checks(5). REJECT, DEFER, DISCARD are reported after
    the data is in; PASS turns off content inspection; HOLD, REDIRECT, BCC, FILTER and edits apply to the
    message. None, DUNNO or OK keep the line. (A `filterd.ContentVerdict` acts on other lines: a header
    inside the body, several pieces of a long line.)
    """


# ---------------------------------------------------------------------------
# Before-queue stage: the whole message is in, the client still waits for the reply.
# Postfix analogue: smtpd_proxy_filter, smtpd_milters.
# ---------------------------------------------------------------------------


@hookspec
def end_of_message(session: Session, envelope: Envelope, message: Message, settings: Any,
                   auth_results: tuple[AuthResult, ...]) -> Verdict | str | None:
    """The whole message is in (`message.headers`, `message.body_lines()`, `message.as_email()`).

    The client gets the reply of the first final verdict, or the next hop's reply: REJECT or DEFER
    refuses the message, DISCARD accepts and drops it. HOLD, REDIRECT, BCC, FILTER, PREPEND (a header
    at the top) and edits (header add/insert/change/delete, body replacement) are applied after the
    chain is done. None, DUNNO or OK accept the message as it is.
    """


# ---------------------------------------------------------------------------
# After-queue stage: the message safely on disk, in filterd's queue or in the MTA's in front.
# Postfix analogue: content_filter, the FILTER action, pipe(8).
# ---------------------------------------------------------------------------


@hookspec
def queue(session: Session, envelope: Envelope, message: Message, settings: Any,
          auth_results: tuple[AuthResult, ...]) -> Verdict | str | None:
    """The queue manager is about to deliver the message (relay mode); `session` is the original client as the
    queue file recorded it. It runs once per message, never on mail back from a filter (a reinject listener).
    As the MTA's content filter (a `filter` listener, `filterd pipe`) it runs in the same go, after
    end_of_message, on the message as that stage left it: the MTA in front holds it queued meanwhile.

    REJECT bounces it to the sender, DEFER retries later, DISCARD drops it, HOLD moves it to
    the hold queue, REDIRECT / BCC change its recipients, FILTER sends it to an after-queue filter
    (transport:nexthop), edits rewrite it before delivery. None, DUNNO or OK deliver it as it is. As the MTA's
    content filter, REJECT and DEFER are its 5XX and 4XX (the MTA bounces or retries), and HOLD and FILTER are
    logged only, as in the proxy.
    """


# ---------------------------------------------------------------------------
# End of the connection.
# ---------------------------------------------------------------------------


@hookspec
def disconnect(session: Session, settings: Any) -> None:
    """The client went away (QUIT, timeout or lost connection). The return value is ignored."""


CHAIN_HOOKS = (
    "connect", "helo", "mail_from", "rcpt", "vrfy", "etrn", "data", "header", "end_of_headers", "body",
    "end_of_message", "queue", "disconnect",
)
"""The hooks the chain runner calls, in the order of a transaction."""

CONTENT_HOOKS = frozenset({"header", "end_of_headers", "body", "end_of_message"})
"""Hooks that PASS turns off for the rest of the message."""
