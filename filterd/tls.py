"""TLS for both sides of SMTP: the server's and the client's SSL contexts made from Postfix's parameters, and a
negotiated session described in Postfix's words for the log line and the Received: header."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from filterd.config import Config
from filterd.parameters.tls import parse_protocols


@dataclass(frozen=True)
class TlsSession:
    """What a handshake agreed on: protocol version, cipher and its secret bits."""

    protocol: str
    cipher: str
    bits: int

    @classmethod
    def of(cls, ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> TlsSession | None:
        """The session of a TLS transport's SSL object; None before the handshake."""
        cipher = ssl_object.cipher() if ssl_object is not None else None
        if not cipher:
            return None
        name, protocol, bits = cipher
        return cls(ssl_object.version() or protocol, name, bits or 0)

    def summary(self) -> str:
        """Postfix's `TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)`.

        Python's ssl module does not tell the key-exchange group or the signature algorithm, so the
        `key-exchange X25519 server-signature ...` words that Postfix 3.7 appends are left out."""
        return f"{self.protocol} with cipher {self.cipher} ({self.bits}/{self.bits} bits)"


def cipher_list(config: Config, grade: str) -> str:
    """The OpenSSL cipher list of a Postfix cipher grade (high or medium)."""
    return config.get(f"tls_{grade}_cipherlist")


def _restrict(context: ssl.SSLContext, protocols: str, ciphers: str) -> ssl.SSLContext:
    context.minimum_version, context.maximum_version = parse_protocols(protocols)
    context.set_ciphers(ciphers)
    context.options |= ssl.OP_NO_COMPRESSION
    return context


def server_context(cert_file: str, key_file: str, protocols: str, ciphers: str) -> ssl.SSLContext:
    """The SMTP server's context; OSError or ssl.SSLError when the certificate or key cannot be loaded."""
    context = _restrict(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), protocols, ciphers)
    context.load_cert_chain(cert_file, key_file or cert_file)
    return context


def client_context(verify: bool, protocols: str, ciphers: str, cafile: str = "", capath: str = "") -> ssl.SSLContext:
    """The SMTP client's context: unauthenticated encryption, or the server's certificate and name checked
    against smtp_tls_CAfile / smtp_tls_CApath (the system's authorities when both are empty)."""
    context = _restrict(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), protocols, ciphers)
    if not verify:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    elif cafile or capath:
        context.load_verify_locations(cafile or None, capath or None)
    else:
        context.load_default_certs()
    return context
