"""SPF (RFC 7208) at MAIL FROM, with pyspf: the sender's domain checked, and the HELO name, as policyd-spf does. Each
result is reported for Authentication-Results (and for the dmarc plugin), scored as SPF_RESULT, and refuses MAIL FROM
when filterd_spf_reject names it (550 5.7.23, or 451 4.4.3 for a temporary error). SASL-authenticated clients and
clients without an IP address are not checked. Received-SPF too, as policyd-spf writes it, if asked for.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from filterd import Verdict, hookimpl

from . import settings as _settings
from .lookups import check
from .received_spf import received_spf

REJECTED = "550 5.7.23 Message rejected due to: {explanation}"
DEFERRED = "451 4.4.3 SPF temporary error: {explanation}"


@hookimpl
def parameters():
    return _settings.PARAMETERS


@hookimpl
def configure(config) -> _settings.Settings:
    return _settings.read(config)


@hookimpl
def changes():
    return {"auth_result", "symbol", "insert_header"}


@hookimpl
async def mail_from(session, sender, settings):
    """The HELO name's result, then the sender's (postmaster@HELO for the null sender); the first refused refuses."""
    if session.sasl_username or not _address(session.client_address):
        return None
    helo = session.helo if _checkable(session.helo) else ""
    verdict = Verdict()
    identities = [("smtp.helo", helo, "")] if helo else []
    if sender:
        identities.append(("smtp.mailfrom", sender, sender))
    for prop, identity, mail_from in identities:
        result, explanation = await check(settings.resolver, session.client_address, mail_from, helo)
        verdict = verdict.with_auth_result("spf", result, "", {prop: identity})
        if prop == "smtp.mailfrom" or not sender:
            verdict = verdict.with_symbol(f"SPF_{result.upper()}", settings.weights[result], f"{prop}={identity}")
            if settings.received_header:
                verdict = verdict.with_edits(received_spf(result, prop[5:], session.client_address, session.helo,
                                                          sender, settings.receiver))
        if result in settings.reject:
            return _refusal(result, explanation, verdict)
    return verdict


def _address(text: str) -> bool:
    """Whether the client has an IP address to check (not a local socket, nor "unknown")."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _checkable(helo: str) -> bool:
    """A HELO name SPF can check: a domain name, not an address literal (RFC 7208 section 2.3)."""
    return "." in helo and not helo.startswith("[") and not helo.replace(".", "").isdigit()


def _refusal(result: str, explanation: str, found: Verdict) -> Verdict:
    """The refusal, carrying the results and symbols found so far (for the log and filterd check)."""
    template = DEFERRED if result == "temperror" else REJECTED
    refusal = Verdict.reject(template.format(explanation=explanation or f"SPF {result}"))
    return replace(refusal, auth_results=found.auth_results, symbols=found.symbols)
