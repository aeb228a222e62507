"""ARC (RFC 8617) for forwarding relays and lists: validates the message's ARC chain, reporting arc=pass, fail or
none in Authentication-Results, and, with filterd_arc_domain set, seals the message with a new ARC set whose
ARC-Authentication-Results copies the results reported before it. List it after the plugins whose results the
seal should carry (spf, dkim, dmarc) and before those that change the message.
"""

from __future__ import annotations

from filterd import InsertHeader, Verdict, hookimpl

from . import settings as _settings
from .chain import validate
from .sealing import arc_set


@hookimpl
def parameters():
    return _settings.PARAMETERS


@hookimpl
def configure(config) -> _settings.Settings:
    return _settings.read(config)


@hookimpl
def changes():
    return {"insert_header", "auth_result"}


@hookimpl
async def end_of_message(message, auth_results, settings: _settings.Settings):
    data = message.as_bytes()
    result, reason = await validate(data, settings.resolver)
    verdict = Verdict.auth_result("arc", result, reason if result == "fail" else "")
    if not settings.domain:
        return verdict
    headers = arc_set(data, (*auth_results, *verdict.auth_results), settings)
    return verdict.with_edits(*(InsertHeader(name, value, index) for index, (name, value) in enumerate(headers)))
