"""ClamAV through clamd's INSTREAM protocol (instream.py, filterd's own sans-IO client): a virus is rejected
before the queue (550 5.7.1 Virus found: NAME) or held after it, the signature's name in the reply and the log.
clamd down, slow or answering an error: filterd_clamav_default_action (tempfail, as clamav-milter's OnFail).
"""

from __future__ import annotations

from filterd import ContentVerdict, Verdict, hookimpl

from . import settings as _settings
from .clamd import scan


@hookimpl
def parameters():
    return _settings.PARAMETERS


@hookimpl
def configure(config) -> _settings.Settings:
    return _settings.read(config)


@hookimpl
def changes():
    return {"hold"}


@hookimpl
async def end_of_message(message, settings):
    return await _scan("end_of_message", message, settings) if settings.hook == "end_of_message" else None


@hookimpl
async def queue(message, settings):
    return await _scan("queue", message, settings) if settings.hook == "queue" else None


async def _scan(hook: str, message, settings: _settings.Settings) -> Verdict | None:
    """clamd's verdict on the whole message; None when it is clean or over the size limit."""
    if message.size > settings.size_limit:
        return None
    what = f"clamav: clamd {settings.clamd}"
    try:
        reply = await scan(settings.clamd, message.chunks(), settings.timeout)
    except Exception as exc:
        return unavailable(settings.default_action, what, f"{type(exc).__name__}: {exc}".rstrip(": "))
    if reply.status == "ERROR":
        return unavailable(settings.default_action, what, reply.signature)
    if not reply.infected:
        return None
    if hook == "queue":
        return Verdict.hold(f"virus {reply.signature}")
    return Verdict.reject(f"550 5.7.1 Virus found: {reply.signature}")


def unavailable(action: str, what: str, error: str) -> Verdict:
    """The verdict for a scanner that failed: the configured action, after a warning that names the cause."""
    warning = Verdict.warn(f"{what}: {error}")
    if action == "accept":
        return warning
    failed = {"tempfail": Verdict.defer("451 4.7.1 Service unavailable - try again later"),
              "reject": Verdict.reject("550 5.7.1 Command rejected"),
              "quarantine": Verdict.hold(f"{what} unavailable")}[action]
    return ContentVerdict.of(failed, earlier=(warning,))
