"""Validating a message's ARC chain (RFC 8617) with dkimpy, the ARC-Seal and ARC-Message-Signature key records
looked up first, asynchronously, through filterd's resolver, and handed to dkimpy in a dnsfunc."""

from __future__ import annotations

import asyncio
import logging

import dkim
from dkim.util import parse_tag_value

ARC_HEADERS = (b"arc-seal", b"arc-message-signature")
DKIMPY_LOG = logging.getLogger("filterd.plugins.arc.dkimpy")
DKIMPY_LOG.addHandler(logging.NullHandler())
DKIMPY_LOG.propagate = False


async def validate(data: bytes, resolver) -> tuple[str, str]:
    """(pass, fail or none, dkimpy's reason) for the chain of the whole message `data`."""
    verifier = dkim.ARC(data, logger=DKIMPY_LOG)
    names = set()
    for name, value in verifier.headers:
        if name.lower() in ARC_HEADERS:
            try:
                tags = parse_tag_value(value)
                names.add(f"{tags[b's'].decode()}._domainkey.{tags[b'd'].decode()}")
            except (dkim.DKIMException, KeyError, UnicodeDecodeError):
                continue
    if not names:
        return "none", ""
    records = dict(zip(names, await asyncio.gather(*(_record(resolver, name) for name in names))))
    try:
        result, _, reason = verifier.verify(dnsfunc=lambda name, timeout=0: records.get(name.decode().rstrip(".")))
    except dkim.DKIMException as exc:
        return "fail", str(exc)
    return result.decode(), reason


async def _record(resolver, name: str) -> bytes | None:
    found = await resolver.lookup(name, "TXT")
    return b"".join(b"".join(record.strings) for record in found.records) or None
