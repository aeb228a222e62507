"""smtpd_milters: filterd, as the MTA, calls external milters (OpenDKIM, clamav-milter, pymilter milters, ...)
at the before-queue stage with Postfix's syntax, parameters, macros and default actions, and applies what they
answer as verdicts and edits. List it in filterd_plugins where the milters should run in the chain.
"""

from __future__ import annotations

from filterd import hookimpl
from filterd.milter.client import PARAMETERS, ClientSettings, SessionMilters, read_settings

NOTE = "milters"
_settings = ClientSettings()


@hookimpl
def parameters():
    """Postfix's milter parameters and defaults."""
    return list(PARAMETERS)


@hookimpl
def configure(config):
    """Read and check the milters now: a malformed smtpd_milters stops filterd at start-up."""
    global _settings
    _settings = read_settings(config)


def _callout(session) -> SessionMilters:
    """This SMTP session's milter connections, kept in its notes."""
    if NOTE not in session.notes:
        session.notes[NOTE] = SessionMilters(_settings, session)
    return session.notes[NOTE]


@hookimpl
async def connect(session):
    return await _callout(session).connect(session)


@hookimpl
async def helo(session, hostname):
    return await _callout(session).helo(session, hostname)


@hookimpl
async def mail_from(session, envelope, sender):
    return await _callout(session).mail(session, envelope, sender)


@hookimpl
async def rcpt(session, envelope, recipient):
    return await _callout(session).rcpt(session, envelope, recipient)


@hookimpl
async def data(session, envelope):
    return await _callout(session).data(session, envelope)


@hookimpl
async def end_of_message(session, envelope, message):
    return await _callout(session).end_of_message(session, envelope, message)


@hookimpl
async def disconnect(session):
    callout = session.notes.pop(NOTE, None)
    if callout is not None:
        await callout.disconnect()
