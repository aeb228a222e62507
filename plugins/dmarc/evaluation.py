"""DMARC's evaluation (RFC 7489 sections 3.1 and 6.6): the From domain against the SPF and DKIM results earlier
plugins reported, aligned strictly (the same domain) or relaxed (the same organizational domain), and the policy
that applies: sp for a subdomain whose record is its organizational domain's, p otherwise, pct of the time."""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import getaddresses

from filterd import AuthResult, Message

from .organizational_domain import PublicSuffixList
from .record import Record

WEAKER = {"reject": "quarantine", "quarantine": "none", "none": "none"}
"""The policy applied when pct leaves the message out (section 6.6.4)."""


@dataclass(frozen=True)
class Evaluation:
    """The result (pass, fail, none, temperror, permerror), the From domain, the policy published for it and the
    disposition: what the policy asks for this message (none, quarantine, reject)."""

    result: str
    domain: str = ""
    policy: str = ""
    disposition: str = "none"

    @property
    def reason(self) -> str:
        return f"p={self.policy} dis={self.disposition}" if self.policy else ""


def from_domain(message: Message) -> str:
    """The domain of the message's one From address; "" without one (no From, several, or no domain)."""
    values = message.get_all("From") or []
    addresses = [address for _, address in getaddresses(values) if address]
    if len(values) != 1 or len(addresses) != 1 or "@" not in addresses[0]:
        return ""
    return addresses[0].rpartition("@")[2].strip().rstrip(".").lower()


def _domain(identity: str) -> str:
    return identity.rpartition("@")[2].strip().rstrip(".").lower()


def spf_domain(results: tuple[AuthResult, ...]) -> str:
    """The domain SPF authenticated: the sender's, or for the null sender the HELO name's; "" when none passed."""
    spf = [r for r in results if r.method == "spf"]
    mail_from = [r for r in spf if r.get("smtp.mailfrom")]
    chosen = mail_from or [r for r in spf if r.get("smtp.helo")]
    if not chosen or chosen[0].result != "pass":
        return ""
    return _domain(chosen[0].get("smtp.mailfrom") or chosen[0].get("smtp.helo") or "")


def dkim_domains(results: tuple[AuthResult, ...]) -> list[str]:
    """The signing domains (header.d) of the DKIM signatures that passed."""
    return [_domain(r.get("header.d") or "") for r in results if r.method == "dkim" and r.result == "pass"]


def evaluate(domain: str, record: Record, results: tuple[AuthResult, ...], suffixes: PublicSuffixList,
             draw: float | None = None) -> Evaluation:
    """Pass when SPF or DKIM passed for an aligned domain; else fail, with the disposition the policy asks."""
    organizational = suffixes.organizational_domain(domain)

    def aligned(other: str, mode: str) -> bool:
        if not other:
            return False
        return other == domain if mode == "s" else suffixes.organizational_domain(other) == organizational

    policy = record.sp if record.domain != domain else record.p
    if aligned(spf_domain(results), record.aspf) or any(aligned(d, record.adkim) for d in dkim_domains(results)):
        return Evaluation("pass", domain, policy)
    draw = random.random() * 100 if draw is None else draw
    disposition = policy if draw < record.pct else WEAKER[policy]
    return Evaluation("fail", domain, policy, disposition)
