"""Every hook a filterd plugin can implement, grouped by stage.

A hook receives any subset of its named arguments (pluggy passes only those the implementation
declares) and returns None (= DUNNO), a `filterd.Verdict`, or a Postfix action string such as
"REJECT 5.7.1 no thanks". It may be a plain function or a coroutine: filterd awaits what is
awaitable. Plugins run in `filterd_plugins` order; the first final verdict (REJECT, DEFER,
DISCARD) ends the chain and decides the transaction; OK ends the chain for this one event only.
Edits carried by verdicts are applied by the core once the chain is done, never by a plugin.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("filterd")

# ---------------------------------------------------------------------------
# Start-up: declaring and reading configuration.
# ---------------------------------------------------------------------------


@hookspec
def parameters():
    """Declare this plugin's main.cf parameters at start-up.

    Return a dict of name -> default value (strings, main.cf syntax) or a list of
    `filterd.config.Parameter`. A parameter nobody declares is a start-up error naming file:line.
    """


@hookspec
def configure(config):
    """Called once per process after the configuration is loaded and checked.

    `config` is the `filterd.config.Config` in force; read your parameters here
    (`config.get(name)`, `config.int(name)`, `config.time(name)`, ...). The return value is ignored.
    """


@hookspec
def changes():
    """Declare the changes this plugin's verdicts can make, as a libmilter filter declares its actions.

    Called once after `configure`. Return the names of the Verdict constructors and action words that
    change the message or where it goes, e.g. {"add_header"} or {"prepend", "redirect"} (all of them:
    `filterd.verdict.CHANGES`); an empty set for a plugin that only decides. Replies (OK, DUNNO, REJECT,
    DEFER, DISCARD, WARN, INFO, PASS) need no declaration. Without this hook, or returning None, a plugin
    may make any change. With it, a verdict making an undeclared change is a plugin error
    (plugin_error_action). The milter asks the MTA for less when it knows more: with no plugin able to
    REDIRECT or delete a recipient and none reading `session` or `envelope` or deciding before DATA,
    Postfix sends no HELO, sender or recipient events, and only the actions declared are negotiated.
    """


# ---------------------------------------------------------------------------
# Built-in stage: while the message is received, one call per SMTP event.
# Postfix analogue: smtpd restrictions, cleanup header_checks / body_checks.
# ---------------------------------------------------------------------------


@hookspec
def connect(session):
    """A client connected. `session` is the `filterd.Session` (client_address, client_name, ...).

    REJECT or DEFER refuses the client's mail transactions (reported at MAIL and RCPT, as
    Postfix's smtpd_delay_reject does). DUNNO lets it in.
    """


@hookspec
def helo(session, hostname):
    """The client sent HELO or EHLO `hostname` (also in `session.helo`).

    REJECT or DEFER answers the HELO/EHLO command with that reply.
    """


@hookspec
def mail_from(session, envelope, sender):
    """MAIL FROM:<sender> with `envelope.mail_options` (SIZE, BODY, SMTPUTF8, ...).

    `sender` is "" for the null sender. REJECT or DEFER refuses the command; the transaction
    does not start. `envelope.queue_id` is already assigned.
    """


@hookspec
def rcpt(session, envelope, recipient):
    """RCPT TO:<recipient>. `envelope.recipients` holds those accepted so far.

    REJECT or DEFER refuses this recipient only. REDIRECT, BCC, HOLD, FILTER apply to the
    whole message, as in Postfix.
    """


@hookspec
def data(session, envelope):
    """The client sent DATA, all recipients known.

    REJECT or DEFER refuses DATA (Postfix's smtpd_data_restrictions).
    """


@hookspec
def header(session, envelope, message, header):
    """One logical header (`filterd.Header`: name, value, text, raw), in order, as it arrives.

    `message.headers` holds the headers seen so far, smtpd's Received: header first.
    PREPEND inserts a header before this one, REPLACE replaces it, IGNORE and STRIP delete
    it (STRIP logs), as header_checks(5). REJECT, DEFER, DISCARD are reported after the data
    is in. PASS turns off content inspection (header, body, end_of_message) for this message.
    """


@hookspec
def end_of_headers(session, envelope, message):
    """The header section is complete (`message.headers`); the body follows."""


@hookspec
def body(session, envelope, message, line):
    """One body line (bytes, no line ending), as body_checks(5) sees it; overlong lines come in pieces.

    Only called when some plugin implements it. PREPEND inserts a line before this one, REPLACE
    replaces it, IGNORE and STRIP delete it, as body_checks(5).
    """


# ---------------------------------------------------------------------------
# Before-queue stage: the whole message is in, the client still waits for the reply.
# Postfix analogue: smtpd_proxy_filter, smtpd_milters.
# ---------------------------------------------------------------------------


@hookspec
def end_of_message(session, envelope, message):
    """The whole message is in (`message.headers`, `message.body_lines()`, `message.as_email()`).

    The client gets the reply of the first final verdict, or the next hop's reply. Edits
    (header add/insert/change/delete, body replacement) are applied after the chain is done.
    """


# ---------------------------------------------------------------------------
# After-queue stage: from the queue manager, the message safely on disk.
# Postfix analogue: content_filter, the FILTER action, pipe(8).
# ---------------------------------------------------------------------------


@hookspec
def queue(envelope, message):
    """The queue manager is about to deliver the message (relay mode).

    REJECT bounces it to the sender, DEFER retries later, DISCARD drops it, HOLD moves it to
    the hold queue, REDIRECT / BCC change its recipients, edits rewrite it before delivery.
    """


# ---------------------------------------------------------------------------
# End of the connection.
# ---------------------------------------------------------------------------


@hookspec
def disconnect(session):
    """The client went away (QUIT, timeout or lost connection). The return value is ignored."""


CHAIN_HOOKS = (
    "connect", "helo", "mail_from", "rcpt", "data", "header", "end_of_headers", "body",
    "end_of_message", "queue", "disconnect",
)
"""The hooks the chain runner calls, in the order of a transaction."""

CONTENT_HOOKS = frozenset({"header", "end_of_headers", "body", "end_of_message"})
"""Hooks that PASS turns off for the rest of the message."""
