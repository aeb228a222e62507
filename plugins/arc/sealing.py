"""A new ARC set (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results) made as dkimpy's ARC.sign makes it,
from the header section and the relaxed body hash computed as the body streamed; the key signs each header hash
with OpenSSL (SealingKey). The results reported so far are this host's Authentication-Results."""

from __future__ import annotations

import base64
import hashlib
import time

import authres
import dkim
from dkim.canonicalization import CanonicalizationPolicy

from .chain import DKIMPY_LOG
from .settings import SealingKey

RELAXED = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
PLACEHOLDER = b"0" * 60
"""b= while hashing: long enough to fold onto a line of its own, so that the tags before it fold alike then and
once signed (as dkimpy does)."""
INSTANCE_LIMIT = 50
CRLF = b"\r\n"


def arc_set(header_bytes: bytes, body_hash: bytes, results, settings,
            now: float | None = None) -> list[tuple[str, str]]:
    """(name, value) of each header of the new set, in the order they go at the top; none when dkimpy would not seal
    (no From to sign, more than 50 sets, a chain whose validation contradicts the sets found)."""
    signer = dkim.ARC(header_bytes, logger=DKIMPY_LOG)
    copied = _copied_results(signer.headers, _results(settings.authserv_id, results), settings.authserv_id)
    include = tuple(name.lower() for name in signer.default_sign_headers())
    newest, found = signer.sorted_arc_headers()
    instance, cv = newest + 1, _chain_validation(copied)
    if not copied or b"from" not in include or instance > INSTANCE_LIMIT or (instance == 1) != (cv == b"none"):
        return []
    aar = b"i=%d; " % instance + _copied_value(settings.authserv_id, copied) + CRLF
    arc_headers = [(b"ARC-Authentication-Results", aar), *([header for _, header in found] if cv != b"fail" else [])]
    headers = RELAXED.canonicalize_headers(arc_headers[:1]) + signer.headers
    tags = _tags(instance, settings.key, now)
    ams = _message_signature(headers, include, body_hash, tags, settings.key)
    arc_headers.insert(0, (b"ARC-Message-Signature", ams))
    seal = _seal(RELAXED.canonicalize_headers(arc_headers[:1]) + headers, arc_headers, cv, tags, settings.key)
    return [("ARC-Seal", _text(seal)), ("ARC-Message-Signature", _text(ams)),
            ("ARC-Authentication-Results", _text(aar))]


def _message_signature(headers, include, body_hash: bytes, tags, key: SealingKey) -> bytes:
    """The ARC-Message-Signature over the `include` headers (the new ARC-Authentication-Results on top of them)."""
    fields = [*tags[:2], (b"c", b"relaxed/relaxed"), *tags[2:], (b"h", b" : ".join(include)),
              (b"bh", base64.b64encode(body_hash))]
    return _signed(b"ARC-Message-Signature", fields, include, headers, key)


def _seal(headers, arc_headers, cv: bytes, tags, key: SealingKey) -> bytes:
    """The ARC-Seal over `arc_headers` (newest first: the new set's, then those of the earlier sets it covers), found
    in `headers` oldest first, as dkimpy finds them; for a failed chain the new set's only, found top down."""
    if cv == b"fail":
        headers = headers[::-1]
    return _signed(b"ARC-Seal", [tags[0], (b"cv", cv), *tags[1:]], [name.lower() for name, _ in reversed(arc_headers)],
                   headers, key)


def _tags(instance: int, key: SealingKey, now: float | None) -> list[tuple[bytes, bytes]]:
    """i=, a=, d=, s=, t=: the tags both signatures of the set share, in dkimpy's order."""
    return [(b"i", str(instance).encode()), (b"a", key.algorithm), (b"d", key.domain.encode()),
            (b"s", key.selector.encode()), (b"t", str(int(now or time.time())).encode())]


def _signed(name: bytes, fields: list[tuple[bytes, bytes]], include, headers, key: SealingKey) -> bytes:
    """The header's folded value (ending in CRLF) with b= last: the `include` headers of `headers` and the header
    itself, b= empty, hashed relaxed as dkimpy's gen_header hashes them, and the digest signed by `key`."""
    fields = [*fields, (b"b", PLACEHOLDER)]
    digest = hashlib.sha256()
    dkim.hash_headers(digest, RELAXED, RELAXED.canonicalize_headers(headers), include,
                      (name, b" " + dkim.fold(_joined(fields), namelen=len(name))), dict(fields))
    fields[-1] = (b"b", base64.b64encode(key.sign(digest.digest())))
    return dkim.fold(_joined(fields) + CRLF, namelen=len(name))


def _joined(fields: list[tuple[bytes, bytes]]) -> bytes:
    return b"; ".join(b"=".join(field) for field in fields)


def _results(authserv_id: str, results) -> str:
    """The Authentication-Results value of the results, as authres writes (and dkimpy reads) it."""
    found = [authres.AuthenticationResult(
        method=result.method, result=result.result, reason=result.reason or None,
        properties=[authres.AuthenticationResultProperty(*name.split(".", 1), value)
                    for name, value in result.properties]) for result in results]
    return str(authres.AuthenticationResultsHeader(authserv_id=authserv_id, results=found).header_value())


def _copied_results(headers, ours: str, authserv_id: str) -> list:
    """The results the ARC-Authentication-Results copies: this host's, then those of the message's own
    Authentication-Results headers for the same authserv-id (dkimpy's choice), as authres parses them."""
    values = [ours, *(value.strip().decode("utf-8", "replace") for name, value in headers
                      if name == b"Authentication-Results")]
    copied = []
    for value in values:
        try:
            parsed = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + value)
        except authres.core.AuthResError:
            continue
        copied.extend(parsed.results if parsed.authserv_id == authserv_id else ())
    return copied


def _copied_value(authserv_id: str, copied: list) -> bytes:
    return (authserv_id.encode() + b"".join(b";\r\n " + str(result).encode() for result in copied)).rstrip()


def _chain_validation(copied: list) -> bytes:
    """cv=: none without an arc result, fail with more than one, else the result."""
    found = [result for result in copied if result.method == "arc"]
    if len(found) != 1:
        return b"fail" if found else b"none"
    return found[0].result.lower().encode()


def _text(value: bytes) -> str:
    return value.decode("utf-8").strip()
