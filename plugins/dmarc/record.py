"""A domain's DMARC record (RFC 7489 section 6.3): found at _dmarc.DOMAIN or, failing that, at _dmarc.ORGDOMAIN,
read into the tags the evaluation needs."""

from __future__ import annotations

from dataclasses import dataclass

from filterd import Resolver

POLICIES = ("none", "quarantine", "reject")


@dataclass(frozen=True)
class Record:
    """p, sp (p when absent), pct, adkim and aspf ("r" relaxed, "s" strict), with the domain it was found at."""

    domain: str
    p: str
    sp: str
    pct: int = 100
    adkim: str = "r"
    aspf: str = "r"


class TemporaryError(Exception):
    """The DNS failed to answer: DMARC's temperror."""


def parse(domain: str, text: str) -> Record | None:
    """The record, or None for text that is no DMARC record or one without a valid p (and no rua to report to)."""
    tags: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags.setdefault(name.strip().lower(), value.strip())
    version = text.split(";")[0].partition("=")
    if version[0].strip() != "v" or version[2].strip() != "DMARC1":
        return None
    p = tags.get("p", "").lower()
    if p not in POLICIES:
        if "rua" not in tags:
            return None
        p = "none"
    sp = tags.get("sp", "").lower()
    pct = tags.get("pct", "100")
    return Record(domain, p, sp if sp in POLICIES else p, min(100, int(pct)) if pct.isdigit() else 100,
                  "s" if tags.get("adkim", "").lower() == "s" else "r",
                  "s" if tags.get("aspf", "").lower() == "s" else "r")


async def lookup(resolver: Resolver, domain: str) -> Record | None:
    """The one DMARC record at _dmarc.DOMAIN; None when there is none or more than one (section 6.6.3)."""
    found = await resolver.lookup(f"_dmarc.{domain}", "TXT")
    if found.status in ("retry", "fail"):
        raise TemporaryError(found.reason)
    texts = [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in found.records]
    records = [record for record in (parse(domain, text) for text in texts) if record is not None]
    return records[0] if len(records) == 1 else None


async def discover(resolver: Resolver, domain: str, organizational: str) -> Record | None:
    """The From domain's record, else its organizational domain's."""
    record = await lookup(resolver, domain)
    if record is None and organizational != domain:
        record = await lookup(resolver, organizational)
    return record
