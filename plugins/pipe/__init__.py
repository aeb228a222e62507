"""An external command as an after-queue filter, as Postfix's pipe(8) runs one: the message on its stdin, its
argv from pipe(8)'s macros (no shell), its stdout the filtered message (filter mode: spamc, altermime, reformime as
they are) or ignored (check mode), its exit status read as pipe(8) reads it, its stderr logged.
"""

from __future__ import annotations

import tempfile

from filterd import ContentVerdict, Verdict, hookimpl

from . import argv, command, exits, replacement
from . import settings as _settings


@hookimpl
def parameters():
    return _settings.PARAMETERS


@hookimpl
def configure(config) -> _settings.Settings:
    return _settings.read(config)


@hookimpl
def changes():
    return {"add_header", "delete_header", "replace_body"}


@hookimpl
async def queue(session, envelope, message, settings: _settings.Settings):
    args = argv.expand(settings.words, _macros(session, envelope, message), envelope.recipients)
    output = tempfile.TemporaryFile() if settings.mode == "filter" else None
    try:
        async with settings.slots:
            done = await command.run(args, message.chunks(), settings.time_limit, output)
        if done.returncode != 0 or done.timed_out:
            return _failed(args[0], done, settings.failure_action)
        if output is None or output.seek(0, 2) == 0:
            return _noted(args[0], done.stderr, None if output is None else Verdict.defer(
                "451 4.3.0 Command produced no output"))
        if replacement.unchanged(message, output, command.lf_lines(message.chunks())):
            return _noted(args[0], done.stderr, None)
        return _noted(args[0], done.stderr, Verdict().with_edits(*replacement.edits(message, output)))
    finally:
        if output is not None:
            output.close()


def _macros(session, envelope, message) -> dict[str, str]:
    return {"sender": envelope.sender or "MAILER-DAEMON", "queue_id": envelope.queue_id, "size": str(message.size),
            "nexthop": "", "client_address": session.client_address, "client_helo": session.helo,
            "client_hostname": session.client_name, "client_port": str(session.client_port),
            "client_protocol": session.protocol, "sasl_method": "", "sasl_sender": "",
            "sasl_username": session.sasl_username}


def _failed(program: str, done: command.Finished, action: str) -> Verdict:
    """Deferred or bounced as pipe(8) says; a bounce deferred instead when failure_action says defer."""
    status, text = exits.failure(done.returncode, done.stderr, done.timed_out)
    if status.startswith("4") or action == "defer":
        return Verdict.defer(f"451 4{status[1:]} {text}")
    return Verdict.reject(f"550 {status} {text}")


def _noted(program: str, stderr: str, verdict: Verdict | None):
    """The verdict, after an info line with what the command wrote to stderr."""
    if not stderr:
        return verdict
    return ContentVerdict.of(verdict or Verdict(), earlier=(Verdict.info(f"pipe: {program}: {stderr}"),))
