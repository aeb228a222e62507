"""smtpd_milters: filterd, as the MTA, calls external milters (OpenDKIM, clamav-milter, pymilter milters, ...)
at the before-queue stage with Postfix's syntax, parameters, macros and default actions, and applies what they
answer as verdicts and edits. List it in filterd_plugins where the milters should run in the chain.

It is built on filterd's public milter client (`filterd.milter_client`): `configure` reads the milters once per
chain and answers with them, and filterd gives them back to every hook as `settings`; each SMTP session's
connections live in the session's notes. Nothing is kept in the module.
"""

from __future__ import annotations

from filterd import hookimpl, milter_client

NOTE = "milters"


@hookimpl
def parameters():
    """Postfix's milter parameters and defaults."""
    return list(milter_client.PARAMETERS)


@hookimpl
def configure(config) -> milter_client.ClientSettings:
    """Read and check the milters now: a malformed smtpd_milters stops filterd at start-up."""
    return milter_client.read_settings(config)


def _callout(session, settings: milter_client.ClientSettings) -> milter_client.SessionMilters:
    """This SMTP session's milter connections, kept in its notes."""
    if NOTE not in session.notes:
        session.notes[NOTE] = milter_client.SessionMilters(settings, session)
    return session.notes[NOTE]


@hookimpl
async def connect(session, settings):
    return await _callout(session, settings).connect(session)


@hookimpl
async def helo(session, hostname, settings):
    return await _callout(session, settings).helo(session, hostname)


@hookimpl
async def mail_from(session, envelope, sender, settings):
    return await _callout(session, settings).mail(session, envelope, sender)


@hookimpl
async def rcpt(session, envelope, recipient, settings):
    return await _callout(session, settings).rcpt(session, envelope, recipient)


@hookimpl
async def data(session, envelope, settings):
    return await _callout(session, settings).data(session, envelope)


@hookimpl
async def end_of_message(session, envelope, message, settings):
    return await _callout(session, settings).end_of_message(session, envelope, message)


@hookimpl
async def disconnect(session):
    callout = session.notes.pop(NOTE, None)
    if callout is not None:
        await callout.disconnect()
