"""Validating a message's ARC chain (RFC 8617) with dkimpy given the header section only: the newest
ARC-Message-Signature's body hash computed as the body streams (BodyHash) and compared here, the key records of the
ARC-Seal and ARC-Message-Signature headers looked up first, asynchronously, through filterd's resolver."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re

import dkim
from dkim.canonicalization import CanonicalizationPolicy, InvalidCanonicalizationPolicyError
from dkim.util import InvalidTagValueList, parse_tag_value

from filterd import BodyHash

ARC_HEADERS = (b"arc-seal", b"arc-message-signature")
DKIMPY_LOG = logging.getLogger("filterd.plugins.arc.dkimpy")
DKIMPY_LOG.addHandler(logging.NullHandler())
DKIMPY_LOG.propagate = False


class ArcChain(dkim.ARC):
    """dkimpy's ARC verifier over the header section; `body_hash` is to be fed the body before `validate`. Only the
    newest ARC-Message-Signature's bh= is checked, as RFC 8617 section 5.2 asks: older ones need not match."""

    def __init__(self, header_bytes: bytes) -> None:
        super().__init__(header_bytes, logger=DKIMPY_LOG)
        self.newest, arc_headers = self.sorted_arc_headers()
        signatures = [value for instance, (name, value) in arc_headers
                      if instance == self.newest and name.lower() == b"arc-message-signature"]
        self.body_hash = _body_hash(signatures[0]) if len(signatures) == 1 else None
        self._instance = 0

    async def validate(self, resolver) -> tuple[str, str]:
        """(pass, fail or none, dkimpy's reason) for the chain, the body already fed to `body_hash`."""
        names = self._key_names()
        if not names:
            return "none", ""
        records = dict(zip(names, await asyncio.gather(*(_record(resolver, name) for name in names))))
        try:
            result, _, reason = self.verify(dnsfunc=lambda name, timeout=0: records.get(name.decode().rstrip(".")))
        except dkim.DKIMException as exc:
            return "fail", str(exc)
        return result.decode(), reason

    def verify_instance(self, arc_headers_w_instance, instance, dnsfunc):
        """dkimpy's check of one ARC set, the instance noted for verify_sig."""
        self._instance = instance
        return super().verify_instance(arc_headers_w_instance, instance, dnsfunc)

    def verify_sig(self, sig, include_headers, sig_header, dnsfunc):
        """dkimpy's check of one signature, the body hash of an ARC-Message-Signature taken out of its hands."""
        if b"bh" in sig:
            if self._instance == self.newest and not self._body_matches(sig[b"bh"]):
                raise dkim.ValidationError("body hash mismatch")
            sig = {tag: value for tag, value in sig.items() if tag != b"bh"}
        return super().verify_sig(sig, include_headers, sig_header, dnsfunc)

    def _body_matches(self, bh: bytes) -> bool:
        try:
            expected = base64.b64decode(re.sub(rb"\s+", b"", bh))
        except binascii.Error:
            return False
        return self.body_hash is not None and expected == self.body_hash.digest()

    def _key_names(self) -> set[str]:
        """SELECTOR._domainkey.DOMAIN of every ARC-Seal and ARC-Message-Signature that names one."""
        names = set()
        for name, value in self.headers:
            if name.lower() in ARC_HEADERS:
                try:
                    tags = parse_tag_value(value)
                    names.add(f"{tags[b's'].decode()}._domainkey.{tags[b'd'].decode()}")
                except (InvalidTagValueList, KeyError, UnicodeDecodeError):
                    continue
        return names


def _body_hash(signature: bytes) -> BodyHash | None:
    """The hash an ARC-Message-Signature's c=, a= and l= ask for; None when they are malformed (dkimpy then fails
    the signature on its own)."""
    try:
        tags = parse_tag_value(signature)
        policy = CanonicalizationPolicy.from_c_value(tags.get(b"c", b"relaxed/relaxed"))
        limit = int(tags[b"l"]) if b"l" in tags else None
    except (InvalidTagValueList, InvalidCanonicalizationPolicyError, ValueError):
        return None
    algorithm = "sha1" if tags.get(b"a") == b"rsa-sha1" else "sha256"
    return BodyHash(policy.body_algorithm.name == b"relaxed", algorithm, limit)


async def _record(resolver, name: str) -> bytes | None:
    found = await resolver.lookup(name, "TXT")
    return b"".join(b"".join(record.strings) for record in found.records) or None
