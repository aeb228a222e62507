"""The arc plugin's parameters (OpenARC's Domain, Selector, KeyFile, AuthservID), read once per chain: the sealing key
loaded here with the `cryptography` package, so that each of a set's signatures is OpenSSL's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from filterd import Parameter, ParameterError, Resolver

PARAMETERS = [
    Parameter("filterd_arc_domain", "", doc="The d= of the ARC sets sealed here; empty: verify only, seal nothing."),
    Parameter("filterd_arc_selector", "", doc="The s= of the ARC sets sealed here: the key record is "
                                              "SELECTOR._domainkey.DOMAIN."),
    Parameter("filterd_arc_key_file", "", doc="The RSA private key (PEM) that seals (rsa-sha256, as RFC 8617 asks)."),
    Parameter("filterd_arc_authserv_id", "$myhostname",
              doc="The authserv-id whose Authentication-Results the ARC-Authentication-Results header copies."),
]


@dataclass(frozen=True)
class SealingKey:
    """The RSA key that seals, with the d= and s= it seals for."""

    domain: str
    selector: str
    private_key: rsa.RSAPrivateKey
    algorithm = b"rsa-sha256"

    def sign(self, digest: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 over a SHA-256 digest (RFC 8617 after RFC 6376), by OpenSSL."""
        return self.private_key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


@dataclass(frozen=True)
class Settings:
    domain: str
    selector: str
    key: SealingKey | None
    """The sealing key, with the domain and selector it seals for; None: verify only."""
    authserv_id: str
    resolver: Any


def read(config) -> Settings:
    name = "filterd_arc_"
    domain, selector, key_file = (config.get(name + what).strip() for what in ("domain", "selector", "key_file"))
    if domain and not (selector and key_file):
        raise ParameterError(name + "domain", "sealing needs filterd_arc_selector and filterd_arc_key_file too")
    key = SealingKey(domain, selector, _rsa_key(key_file)) if domain else None
    return Settings(domain, selector, key, config.get(name + "authserv_id"), Resolver.from_config(config))


def _rsa_key(key_file: str) -> rsa.RSAPrivateKey:
    """The RSA private key in the PEM file; an unreadable file, or another kind of key, is a ParameterError."""
    try:
        with open(key_file, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise ParameterError("filterd_arc_key_file", f"{key_file}: {exc.strerror or exc}") from None
    if b"PRIVATE KEY-----" not in data:
        raise ParameterError("filterd_arc_key_file", f"{key_file}: not a PEM private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ParameterError("filterd_arc_key_file", f"{key_file}: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ParameterError("filterd_arc_key_file", f"{key_file}: not an RSA key (ARC seals with rsa-sha256)")
    return key
