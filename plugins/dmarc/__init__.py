"""DMARC (RFC 7489) at end of message: the From domain's policy, found in the DNS, applied to the SPF and DKIM results
the plugins before this one reported (list it after spf and dkim in filterd_plugins). The result is reported for
Authentication-Results and scored as DMARC_OUTCOME; a failing message gets the action the administrator chose for
its domain's policy: reject (550 5.7.1, as OpenDMARC), quarantine (HOLD) or accept.
"""

from __future__ import annotations

from filterd import Verdict, hookimpl

from . import settings as _settings
from .evaluation import Evaluation, evaluate, from_domain
from .record import TemporaryError, discover

REJECTED = "550 5.7.1 rejected by DMARC policy for {domain}"
HELD = "DMARC policy {policy} for {domain}"


@hookimpl
def parameters():
    return _settings.PARAMETERS


@hookimpl
def configure(config) -> _settings.Settings:
    return _settings.read(config)


@hookimpl
def changes():
    return {"auth_result", "symbol", "hold"}


@hookimpl
async def end_of_message(message, auth_results, settings):
    return _verdict(await _evaluation(message, auth_results, settings), settings)


async def _evaluation(message, auth_results, settings: _settings.Settings) -> Evaluation:
    domain = from_domain(message)
    if not domain:
        return Evaluation("permerror")
    try:
        record = await discover(settings.resolver, domain, settings.suffixes.organizational_domain(domain))
    except TemporaryError:
        return Evaluation("temperror", domain)
    if record is None:
        return Evaluation("none", domain)
    return evaluate(domain, record, auth_results, settings.suffixes)


def _verdict(found: Evaluation, settings: _settings.Settings) -> Verdict:
    """The action chosen for the disposition, with the result reported and scored."""
    outcome = found.result if found.result != "fail" or found.disposition == "none" else found.disposition
    action = settings.actions[found.disposition] if found.result == "fail" else "accept"
    if action == "reject":
        verdict = Verdict.reject(REJECTED.format(domain=found.domain))
    elif action == "quarantine":
        verdict = Verdict.hold(HELD.format(policy=found.disposition, domain=found.domain))
    else:
        verdict = Verdict()
    properties = {"header.from": found.domain} if found.domain else {}
    return verdict.with_auth_result("dmarc", found.result, found.reason, properties).with_symbol(
        f"DMARC_{outcome.upper()}", settings.weights[outcome], found.reason)
