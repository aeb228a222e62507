"""SpamAssassin through spamd (aiospamc): spamd's result as X-Spam-Status, X-Spam-Score, X-Spam-Flag (and
X-Spam-Report), its score as the SPAMASSASSIN symbol, and its own thresholds: reject (550 5.7.1) before the
queue, hold after it or from the hold score on. spamd down or slow: filterd_spamassassin_default_action.
"""

from __future__ import annotations

from filterd import AddHeader, ContentVerdict, Verdict, hookimpl

from . import settings as _settings
from .spamd import Result, ask

REJECTED = "550 5.7.1 Spam message rejected"


@hookimpl
def parameters():
    return _settings.PARAMETERS


@hookimpl
def configure(config) -> _settings.Settings:
    return _settings.read(config)


@hookimpl
def changes():
    return {"add_header", "hold", "symbol"}


@hookimpl
async def end_of_message(envelope, message, settings):
    return await _scan("end_of_message", envelope, message, settings) if settings.hook == "end_of_message" else None


@hookimpl
async def queue(envelope, message, settings):
    return await _scan("queue", envelope, message, settings) if settings.hook == "queue" else None


async def _scan(hook: str, envelope, message, settings: _settings.Settings) -> Verdict | None:
    """spamd's judgement as a verdict; None for a message over the size limit, as spamc passes it on unscanned."""
    if message.size > settings.size_limit:
        return None
    try:
        result = await ask(settings, message.as_bytes(), settings.user_for(envelope.recipients))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}".rstrip(": ")
        return unavailable(settings.default_action, f"spamassassin: spamd {settings.spamd}", error)
    return _verdict(hook, result, settings)


def _verdict(hook: str, result: Result, settings: _settings.Settings) -> Verdict:
    """Reject or hold as the thresholds say, else the headers; always the score as a symbol."""
    if settings.reject is not None and result.score >= settings.reject and hook == "end_of_message":
        verdict = Verdict.reject(REJECTED)
    elif settings.reject is not None and result.score >= settings.reject or \
            settings.hold is not None and result.score >= settings.hold:
        verdict = Verdict.hold(f"spamassassin score {result.score:g}").with_edits(*_headers(result))
    else:
        verdict = Verdict().with_edits(*_headers(result))
    return verdict.with_symbol("SPAMASSASSIN", result.score, ",".join(result.tests))


def _headers(result: Result) -> list[AddHeader]:
    """X-Spam-Flag (spam only), X-Spam-Score, X-Spam-Status and X-Spam-Report (when asked for), as edits."""
    names = [("X-Spam-Flag", "YES")] if result.spam else []
    names += [("X-Spam-Score", f"{result.score:.1f}"), ("X-Spam-Status", result.status())]
    if result.report:
        names.append(("X-Spam-Report", result.report.replace("\n", "\r\n\t")))
    return [AddHeader(name, value) for name, value in names]


def unavailable(action: str, what: str, error: str) -> Verdict:
    """The verdict for a scanner that failed: the configured action, after a warning that names the cause."""
    warning = Verdict.warn(f"{what}: {error}")
    if action == "accept":
        return warning
    failed = {"tempfail": Verdict.defer("451 4.7.1 Service unavailable - try again later"),
              "reject": Verdict.reject("550 5.7.1 Command rejected"),
              "quarantine": Verdict.hold(f"{what} unavailable")}[action]
    return ContentVerdict.of(failed, earlier=(warning,))
