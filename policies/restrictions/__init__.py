"""Postfix's SMTP access restrictions as a filterd plugin: smtpd_client_restrictions, smtpd_helo_restrictions,
smtpd_sender_restrictions, smtpd_relay_restrictions, smtpd_recipient_restrictions, smtpd_data_restrictions,
smtpd_end_of_data_restrictions (once the message is in, before the client is answered) and smtpd_etrn_restrictions,
evaluated as Postfix's smtpd evaluates them (evaluation.py), in whichever front end runs the chain.

With smtpd_delay_reject = yes (the default) the client, HELO and sender lists are evaluated at RCPT, before
the relay and recipient lists, so that every refusal names the recipient; with no, each at its own command.
A recipient that is "postmaster" alone is never refused (RFC 5321 section 4.5.1), as smtpd_check_rcpt has it.
filterd loads this plugin by itself in relay mode, first in the chain: a relay is never open.

A restriction is a function registered under its Postfix name with `@restriction(NAME)` (names.py); the modules
imported below register filterd's. A new one is a module here, imported below; its name is then valid in every
list. Hooks answer None at once when their lists are empty, and a coroutine otherwise.
"""

from __future__ import annotations

from filterd import Action, Envelope, Verdict, hookimpl, unquote_local

from . import (  # noqa: F401  (each registers its restrictions)
    allowlists, client, etrn_site, generic, helo, login, mx_backup, policy, recipient, sender, servers, unlisted)
from .evaluation import Check, decide, logged_first
from .settings import CLIENT, DATA, END_OF_DATA, ETRN, HELO, SENDER, Settings


@hookimpl
def parameters(config) -> dict[str, str]:
    """Each restriction class named in smtpd_restriction_classes is a parameter: its restriction list."""
    return {name: "" for name in config.list("smtpd_restriction_classes")} if config is not None else {}


@hookimpl
def configure(config) -> Settings:
    return Settings.from_config(config)


@hookimpl
def connect(session, settings: Settings):
    lists = [] if settings.delay_reject else settings.named(CLIENT)
    return decide(lists, Check(session, Envelope(sender=None), settings, protocol_state="CONNECT")) if lists else None


@hookimpl
def helo(session, extended: bool, settings: Settings):
    lists = [] if settings.delay_reject else settings.named(HELO)
    state = "EHLO" if extended else "HELO"
    return decide(lists, Check(session, Envelope(sender=None), settings, protocol_state=state)) if lists else None


@hookimpl
def mail_from(session, envelope, settings: Settings):
    lists = [] if settings.delay_reject else settings.named(SENDER)
    return decide(lists, Check(session, envelope, settings, protocol_state="MAIL")) if lists else None


@hookimpl
def rcpt(session, envelope, recipient: str, settings: Settings):
    if unquote_local(recipient).lower() == "postmaster":
        return None
    return recipient_checks(applied(settings, session, envelope, *settings.recipient_lists),
                            Check(session, envelope, settings, recipient))


def recipient_checks(lists: list, check: Check):
    """smtpd_check_rcpt: the lists, then (smtpd_reject_unlisted_recipient) the recipient table check unless they
    refused, discarded or made it; None at once when there is neither."""
    settings = check.settings
    known = (settings.local_recipient_maps or settings.relay_recipient_maps or settings.virtual_mailbox_maps
             or settings.transports.may_refuse)
    if not lists and not (settings.reject_unlisted_recipient and known):
        return None
    return _recipient_checks(lists, check)


async def _recipient_checks(lists: list, check: Check) -> Verdict | None:
    verdict = await decide(lists, check) if lists else None
    if verdict is not None and verdict.action in (Action.REJECT, Action.DEFER, Action.DISCARD):
        return verdict
    unknown = unlisted.after_the_lists(check)
    return logged_first(unknown, check.kept) if unknown is not None else verdict


def applied(settings: Settings, session, envelope: Envelope, *names: str) -> list:
    """The lists a command applies: `names`, after (with smtpd_delay_reject) the client's, the HELO name's once there
    is one and the sender's in a mail transaction, as smtpd_check_helo() and smtpd_check_mail() skip theirs without."""
    delayed = (CLIENT, HELO if session.unforwarded().helo else "", SENDER if envelope.sender is not None else "")
    return settings.named(*(name for name in delayed if name and settings.delay_reject), *names)


def only_recipient(envelope: Envelope) -> str | None:
    """The recipient smtpd still asks about at DATA and end of data: the only one (with several, none)."""
    return envelope.recipients[0] if len(envelope.recipients) == 1 else None


@hookimpl
def vrfy(session, envelope, recipient: str, settings: Settings):
    """VRFY: the lists RCPT evaluates, as smtpd_check_rcpt() runs for it (the sender's only in a transaction)."""
    if unquote_local(recipient).lower() == "postmaster":
        return None
    return recipient_checks(applied(settings, session, envelope, *settings.recipient_lists),
                            Check(session, envelope, settings, recipient, protocol_state="VRFY"))


@hookimpl
def etrn(session, site: str, settings: Settings):
    """ETRN: smtpd_etrn_restrictions about `site`, after (with smtpd_delay_reject) the client and HELO lists, as
    smtpd_check_etrn() applies them."""
    envelope = Envelope(sender=None)
    lists = applied(settings, session, envelope, ETRN)
    return decide(lists, Check(session, envelope, settings, protocol_state="ETRN", site=site)) if lists else None


@hookimpl
def data(session, envelope, settings: Settings):
    lists = settings.named(DATA)
    check = Check(session, envelope, settings, only_recipient(envelope), protocol_state="DATA")
    return decide(lists, check) if lists else None


@hookimpl
def end_of_message(session, envelope, settings: Settings):
    lists = settings.named(END_OF_DATA)
    check = Check(session, envelope, settings, only_recipient(envelope), protocol_state="END-OF-MESSAGE")
    return decide(lists, check) if lists else None
