"""Verifying every DKIM-Signature of a message (RSA and Ed25519): the key records looked up first, asynchronously,
through filterd's resolver and its cache; each body hash computed in one pass over the spooled body; dkimpy then
checks the header hash and the signature against the record, given a dnsfunc over the records already found.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from dataclasses import dataclass

import dkim
from dkim.util import parse_tag_value

from filterd import BodyHash

OK, NOTFOUND = "ok", "notfound"
_QUIET = logging.getLogger("filterd.plugins.dkim.dkimpy")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


@dataclass(frozen=True)
class Result:
    """One signature's result in RFC 8601's words (pass, fail, neutral, temperror, permerror) and its reason."""

    result: str
    domain: str = ""
    selector: str = ""
    signature: str = ""
    reason: str = ""

    def properties(self) -> dict[str, str]:
        """header.d, header.s and header.b (the signature's first 8 characters, RFC 6008)."""
        found = {"header.d": self.domain, "header.s": self.selector, "header.b": self.signature[:8]}
        return {name: value for name, value in found.items() if value}


@dataclass
class _Signature:
    index: int
    tags: dict
    body_hash: BodyHash


async def verify(message, resolver, min_key_bits: int = 1024) -> list[Result]:
    """A result per DKIM-Signature header, in the order of the headers."""
    header_bytes = message.header_bytes()
    verifier = dkim.DKIM(header_bytes, minkey=min_key_bits, logger=_QUIET)
    signatures, results = [], {}
    for index, (name, value) in enumerate(h for h in verifier.headers if h[0].lower() == b"dkim-signature"):
        try:
            tags = parse_tag_value(value)
            dkim.validate_signature_fields(tags)
            signatures.append(_Signature(index, tags, _body_hash(tags)))
        except (dkim.DKIMException, ValueError, KeyError) as exc:
            results[index] = Result("permerror", reason=f"bad signature: {exc}")
    lookups = await asyncio.gather(*(_key_record(resolver, s.tags) for s in signatures))
    for chunk in message.body_chunks() if signatures else ():
        for signature in signatures:
            signature.body_hash.update(chunk)
    for signature, (status, record, reason) in zip(signatures, lookups):
        results[signature.index] = _checked(verifier, signature, status, record, reason)
    return [results[index] for index in sorted(results)]


def _body_hash(tags: dict) -> BodyHash:
    canonicalization = tags.get(b"c", b"simple/simple").split(b"/")
    body = canonicalization[1] if len(canonicalization) == 2 else b"simple"
    algorithm = "sha1" if tags[b"a"] == b"rsa-sha1" else "sha256"
    limit = int(tags[b"l"]) if b"l" in tags else None
    return BodyHash(body == b"relaxed", algorithm, limit)


async def _key_record(resolver, tags: dict) -> tuple[str, bytes | None, str]:
    """(status, the TXT record, reason) for the signature's selector._domainkey.domain."""
    name = f"{tags[b's'].decode()}._domainkey.{tags[b'd'].decode()}"
    found = await resolver.lookup(name, "TXT")
    if found.status != OK:
        return found.status, None, found.reason
    return OK, b"".join(b"".join(record.strings) for record in found.records), ""


def _checked(verifier, signature: _Signature, status: str, record: bytes | None, reason: str) -> Result:
    tags = signature.tags
    found = Result("", tags[b"d"].decode(), tags[b"s"].decode(), re.sub(r"\s+", "", tags[b"b"].decode()))
    if status != OK:
        return _with(found, "permerror" if status == NOTFOUND else "temperror", f"key record: {reason}")
    if base64.b64decode(re.sub(rb"\s+", b"", tags[b"bh"])) != signature.body_hash.digest():
        return _with(found, "fail", "body hash did not verify")
    without_body = {tag: value for tag, value in tags.items() if tag != b"bh"}
    include = [name.lower() for name in re.split(rb"\s*:\s*", tags[b"h"])]
    header = [h for h in verifier.headers if h[0].lower() == b"dkim-signature"][signature.index]
    try:
        valid = verifier.verify_sig(without_body, include, header, lambda name, timeout=0: record)
    except dkim.DKIMException as exc:
        return _with(found, "permerror", str(exc))
    return _with(found, "pass") if valid else _with(found, "fail", "signature did not verify")


def _with(result: Result, outcome: str, reason: str = "") -> Result:
    return Result(outcome, result.domain, result.selector, result.signature, reason)
