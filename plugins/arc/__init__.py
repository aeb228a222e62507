"""ARC (RFC 8617) for forwarding relays and lists: validates the message's ARC chain, reporting arc=pass, fail or
none in Authentication-Results, and, with filterd_arc_domain set, seals the message with a new ARC set whose
ARC-Authentication-Results copies the results reported before it. List it after the plugins whose results the
seal should carry (spf, dkim, dmarc) and before those that change the message.

The body is read once, as it streams from the spool, for the chain's body hash and the seal's; dkimpy sees the
header section only, and the seal is signed with OpenSSL.
"""

from __future__ import annotations

from filterd import InsertHeader, Verdict, hookimpl

from . import settings as _settings
from filterd import BodyHash
from .chain import ArcChain
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
    header_bytes = message.header_bytes()
    chain = ArcChain(header_bytes)
    sealing = BodyHash(relaxed=True) if settings.key else None
    _hash_body(message, chain.body_hash, sealing)
    result, reason = await chain.validate(settings.resolver)
    verdict = Verdict.auth_result("arc", result, reason if result == "fail" else "")
    if sealing is None:
        return verdict
    headers = arc_set(header_bytes, sealing.digest(), (*auth_results, *verdict.auth_results), settings)
    return verdict.with_edits(*(InsertHeader(name, value, index) for index, (name, value) in enumerate(headers)))


def _hash_body(message, *hashes: BodyHash | None) -> None:
    """Feed the body to every hash wanted, in one pass over the spool."""
    wanted = [body_hash for body_hash in hashes if body_hash is not None]
    for chunk in message.body_chunks() if wanted else ():
        for body_hash in wanted:
            body_hash.update(chunk)
