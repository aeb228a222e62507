"""Example plugin for the after-queue stage: a blind copy of every message to an archive mailbox, as Postfix's
always_bcc, bounces excepted. The queue manager runs it (relay mode) once the message is safely queued.

    filterd_plugins = archive_bcc
    archive_bcc_address = archive@example.org
"""

from filterd import Verdict, hookimpl


@hookimpl
def parameters():
    return {"archive_bcc_address": ""}


@hookimpl
def configure(config):
    return config.get("archive_bcc_address")


@hookimpl
def changes():
    return {"bcc"}


@hookimpl
def queue(envelope, settings):
    """BCC adds a recipient before delivery; None delivers the message as it is."""
    if not settings or envelope.sender == "":
        return None
    return Verdict.bcc(settings)
