"""Private keys for signing, read with the `cryptography` package: RSA or Ed25519 in PEM, or an Ed25519 key as
dkimpy's dknewkey writes it (the 32-byte seed in base64). Its signing is OpenSSL's, twenty times dkimpy's own RSA.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from .tables import KeyEntry, TableError


@dataclass(frozen=True)
class SigningKey:
    """A loaded key with the domain and selector it signs for."""

    domain: str
    selector: str
    private_key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

    @property
    def algorithm(self) -> bytes:
        return b"ed25519-sha256" if isinstance(self.private_key, ed25519.Ed25519PrivateKey) else b"rsa-sha256"

    def sign(self, digest: bytes) -> bytes:
        """The signature of a SHA-256 digest: RSASSA-PKCS1-v1_5 (RFC 6376) or Ed25519 over the digest (RFC 8463)."""
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return self.private_key.sign(digest)
        return self.private_key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


def load_key(entry: KeyEntry) -> SigningKey:
    """The key of a KeyTable entry; a missing or unreadable file is an error naming the table's FILE:LINE."""
    try:
        with open(entry.key_file, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise TableError(f"{entry.where}: key file {entry.key_file}: {exc.strerror or exc}") from None
    return SigningKey(entry.domain, entry.selector, _private_key(data, entry))


def _private_key(data: bytes, entry: KeyEntry):
    if b"-----BEGIN" not in data:
        try:
            seed = base64.b64decode(data.strip(), validate=True)
            if len(seed) == 32:
                return ed25519.Ed25519PrivateKey.from_private_bytes(seed)
        except (binascii.Error, ValueError):
            pass
        raise TableError(f"{entry.where}: key file {entry.key_file}: not a PEM key nor a base64 Ed25519 seed")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise TableError(f"{entry.where}: key file {entry.key_file}: {exc}") from None
    if not isinstance(key, (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        raise TableError(f"{entry.where}: key file {entry.key_file}: not an RSA or Ed25519 key")
    return key
