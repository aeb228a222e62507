"""The DKIM-Signature header for a message: dkimpy chooses and canonicalizes the headers (RFC 6376's recommended
set, From signed once more than it occurs, relaxed/relaxed) and hashes them; the key signs the digest (keys.py).
"""

from __future__ import annotations

import base64
import hashlib
import time

import dkim
from dkim.canonicalization import CanonicalizationPolicy

from .keys import SigningKey

RELAXED = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
PLACEHOLDER = b"0" * 60


def dkim_signature(header_bytes: bytes, body_hash: bytes, key: SigningKey, now: float | None = None) -> str:
    """The DKIM-Signature value (folded, without the name) for the header section and the relaxed body's hash."""
    signer = dkim.DKIM(header_bytes, signature_algorithm=key.algorithm)
    include = tuple(name.lower() for name in signer.default_sign_headers())
    fields = [(b"v", b"1"), (b"a", key.algorithm), (b"c", b"relaxed/relaxed"), (b"d", key.domain.encode()),
              (b"s", key.selector.encode()), (b"t", str(int(now or time.time())).encode()),
              (b"h", b" : ".join(include)), (b"bh", base64.b64encode(body_hash)), (b"b", PLACEHOLDER)]
    digest = hashlib.sha256()
    dkim.hash_headers(digest, RELAXED, RELAXED.canonicalize_headers(signer.headers), include,
                      (b"DKIM-Signature", b" " + _folded(fields)), dict(fields))
    fields[-1] = (b"b", base64.b64encode(key.sign(digest.digest())))
    return _folded(fields).decode("ascii")


def _folded(fields: list[tuple[bytes, bytes]]) -> bytes:
    """The tags folded as dkimpy folds them: b= last and long enough to start a line of its own, so that the tags
    before it fold alike with the placeholder (hashed, b= emptied) and with the signature (sent)."""
    return dkim.fold(b"; ".join(b"=".join(field) for field in fields), namelen=len(b"DKIM-Signature"))
