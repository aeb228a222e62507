"""TLS for both sides of SMTP: the server's and the client's SSL contexts made from Postfix's parameters, and a
negotiated session described in Postfix's words for the log line and the Received: header."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

import aiosmtplib

from filterd import maillog
from filterd.config import Config
from filterd.parameters.tls import parse_protocols
from filterd.tls_chain import load_chain_files
from filterd.tls_details import describe


@dataclass(frozen=True)
class TlsSession:
    """What a handshake agreed on: protocol version, cipher and its secret bits."""

    protocol: str
    cipher: str
    bits: int
    details: str = ""
    """Postfix's `key-exchange ... server-signature ... server-digest ...` words (filterd.tls_details)."""

    @classmethod
    def of(cls, ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> TlsSession | None:
        """The session of a TLS transport's SSL object; None before the handshake."""
        cipher = ssl_object.cipher() if ssl_object is not None else None
        if not cipher:
            return None
        name, protocol, bits = cipher
        return cls(ssl_object.version() or protocol, name, bits or 0, describe(ssl_object))

    def summary(self) -> str:
        """Postfix's `TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 ...`."""
        words = f"{self.protocol} with cipher {self.cipher} ({self.bits}/{self.bits} bits)"
        return f"{words} {self.details}" if self.details else words


def cipher_list(config: Config, grade: str) -> str:
    """The OpenSSL cipher list of a Postfix cipher grade (high or medium)."""
    return config.get(f"tls_{grade}_cipherlist")


def _restrict(context: ssl.SSLContext, protocols: str, ciphers: str) -> ssl.SSLContext:
    context.minimum_version, context.maximum_version = parse_protocols(protocols)
    context.set_ciphers(ciphers)
    context.options |= ssl.OP_NO_COMPRESSION
    return context


_LOADED: dict[tuple, ssl.SSLContext | OSError | ssl.SSLError] = {}


def _once(build):
    """A context is made once per process with the same arguments, and so is its failure: a worker makes its
    contexts while it can still read root-only key files (as Postfix's smtpd does before it drops privileges), and
    finds them again, or the same error, once it runs as mail_owner."""
    def made(*args):
        if args not in _LOADED:
            try:
                _LOADED[args] = build(*args)
            except (OSError, ssl.SSLError) as exc:
                _LOADED[args] = exc
        if isinstance(_LOADED[args], Exception):
            raise _LOADED[args]
        return _LOADED[args]
    made.__doc__ = build.__doc__
    return made


@_once
def server_context(cert_file: str, key_file: str, protocols: str, ciphers: str, chain_files: str = "") -> ssl.SSLContext:
    """The SMTP server's context; OSError or ssl.SSLError when the certificate or key cannot be loaded (ChainError
    with Postfix's words for smtpd_tls_chain_files, which, when set, stands for the legacy files). One TLS 1.3
    session ticket a handshake, as Postfix's smtpd sends (OpenSSL's default is two)."""
    context = _restrict(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), protocols, ciphers)
    if chain_files:
        load_chain_files(context, chain_files.replace(",", " ").split())
    else:
        context.load_cert_chain(cert_file, key_file or cert_file)
    context.num_tickets = 1
    return context


@_once
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


def client_arguments(config: Config) -> tuple[bool, str, str, str, str]:
    """client_context's arguments for smtp_tls_*: the protocols and ciphers of the level (the mandatory ones from
    encrypt up), and whether and against what the certificate is verified."""
    level = config.get("smtp_tls_security_level") or "none"
    mandatory = "" if level == "may" else "mandatory_"
    return (level in ("verify", "secure"), config.get(f"smtp_tls_{mandatory}protocols"),
            cipher_list(config, config.get(f"smtp_tls_{mandatory}ciphers")), config.get("smtp_tls_CAfile"),
            config.get("smtp_tls_CApath"))


class TlsRequired(ConnectionError):
    """The next hop cannot give the TLS that smtp_tls_security_level asks for: the reason in Postfix's words."""


@dataclass(frozen=True)
class ClientTls:
    """smtp_tls_*: the level and its context, for queue delivery and the proxy's next hop."""

    level: str = "none"
    context: ssl.SSLContext | None = None
    loglevel: int = 0
    timeout: float = 300.0

    @classmethod
    def from_config(cls, config: Config) -> ClientTls:
        level = config.get("smtp_tls_security_level") or "none"
        if level == "none":
            return cls()
        arguments = client_arguments(config)
        try:
            context = client_context(*arguments)
        except (OSError, ssl.SSLError) as exc:
            maillog.warning("smtp", 'cannot load Certification Authority data, CAfile="%s", CApath="%s": %s: '
                            "disabling TLS support", arguments[3], arguments[4], exc.strerror or exc)
            context = None
        return cls(level, context, config.int("smtp_tls_loglevel"), config.time("smtp_starttls_timeout"))

    async def start(self, smtp, name: str, address: str, port: int, service: str = "smtp") -> None:
        """STARTTLS on an aiosmtplib session after EHLO, as the level says; raises TlsRequired when the level
        cannot be met, and leaves a session of level may in plaintext when the server does not offer it."""
        host = f"{name}[{address}]"
        if self.context is None and self.level not in ("none", "may"):
            raise TlsRequired("TLS is required, but our TLS engine is unavailable")
        if self.context is None:
            return
        if not smtp.supports_extension("starttls"):
            if self.level == "may":
                return
            raise TlsRequired(f"TLS is required, but was not offered by host {host}")
        try:
            await smtp.starttls(tls_context=self.context, server_hostname=name, timeout=self.timeout)
        except aiosmtplib.SMTPResponseException as exc:
            if self.level == "may":
                return
            raise TlsRequired(f"TLS is required, but host {host} refused to start TLS: {exc.code} {exc.message}") \
                from exc
        except (OSError, ssl.SSLError, asyncio.TimeoutError, aiosmtplib.SMTPException) as exc:
            raise TlsRequired(f"Cannot start TLS: handshake failure with {host}: {exc}") from exc
        await smtp.ehlo()
        negotiated = TlsSession.of(smtp.transport.get_extra_info("ssl_object") if smtp.transport else None)
        if negotiated is not None and self.loglevel >= 1:
            trust = "Verified" if self.level in ("verify", "secure") else "Untrusted"
            maillog.info(service, "%s TLS connection established to %s:%d: %s", trust, host, port,
                         negotiated.summary())
