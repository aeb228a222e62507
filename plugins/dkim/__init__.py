"""DKIM (RFC 6376): signs the mail of authenticated clients and of filterd_dkim_sign_networks with the key that
OpenDKIM-style tables choose by the From domain (relaxed/relaxed, rsa-sha256 or ed25519-sha256), and verifies every
DKIM-Signature of the other mail, reporting each result for Authentication-Results and the DMARC plugin.
"""

from __future__ import annotations

import email.utils

from filterd import InsertHeader, Verdict, hookimpl

from . import settings as _settings
from filterd import BodyHash
from .signing import dkim_signature
from .verifying import verify


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
async def end_of_message(session, message, settings: _settings.Settings):
    if settings.signs(session):
        return _signed(message, settings)
    if settings.verify:
        return _verified(await verify(message, settings.resolver, settings.minimum_key_bits))
    return None


def _signed(message, settings: _settings.Settings) -> Verdict | None:
    """The DKIM-Signature of the key for the From address, inserted at the top; None when no key is for it."""
    key = settings.key_for(_from_address(message))
    if key is None:
        return None
    body_hash = BodyHash(relaxed=True)
    for chunk in message.body_chunks():
        body_hash.update(chunk)
    return Verdict(edits=(InsertHeader("DKIM-Signature", dkim_signature(message.header_bytes(), body_hash.digest(),
                                                                         key), 0),))


def _from_address(message) -> str:
    return email.utils.parseaddr(message.get("From") or "")[1]


def _verified(results) -> Verdict:
    """A result per signature; dkim=none for a message with none (RFC 8601 section 2.7.1)."""
    if not results:
        return Verdict.auth_result("dkim", "none")
    verdict = Verdict()
    for result in results:
        verdict = verdict.with_auth_result("dkim", result.result, result.reason, result.properties())
    return verdict
