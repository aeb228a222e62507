"""STARTTLS and implicit TLS in the SMTP server, as Postfix's smtpd has them: the settings, the replies that refuse
the command, the commands refused before it, and the log line of an established session."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from filterd import maillog
from filterd.config import Config
from filterd.model import Session
from filterd.parameters.tls import server_level
from filterd.tls import TlsSession, cipher_list, server_context
from filterd.tls_chain import ChainError

READY = "220 2.0.0 Ready to start TLS"
MUST_STARTTLS = "530 5.7.0 Must issue a STARTTLS command first"
PRE_TLS = frozenset({"HELO", "EHLO", "STARTTLS", "NOOP", "QUIT"})
"""The commands Postfix's smtpd takes before STARTTLS when TLS is required (SMTPD_CMD_FLAG_PRE_TLS)."""


@dataclass(frozen=True)
class ServerTls:
    """smtpd_tls_*: the level, the context (None when off or when the certificate could not be loaded), implicit
    TLS, logging and the Received: header."""

    level: str = "none"
    context: ssl.SSLContext | None = None
    wrapper: bool = False
    loglevel: int = 0
    received_header: bool = False
    handshake_timeout: float = 300.0

    @classmethod
    def from_config(cls, config: Config, service: str = "smtpd") -> ServerTls:
        level, wrapper = server_level(config), config.bool("smtpd_tls_wrappermode")
        return cls(level, _context(config, service), wrapper,
                   config.int("smtpd_tls_loglevel"), config.bool("smtpd_tls_received_header"),
                   config.time("smtpd_starttls_timeout"))

    @property
    def offered(self) -> bool:
        """Whether EHLO offers STARTTLS (not on an implicit-TLS listener)."""
        return self.level in ("may", "encrypt") and not self.wrapper

    def refusal(self, session: Session, arg: str | None, discarded: bool = False) -> str | None:
        """Postfix's reply refusing STARTTLS, in the order its smtpd checks (`discarded`: its EHLO keyword is, and
        so is the command); None means go ahead."""
        if arg:
            return "501 5.5.4 Syntax: STARTTLS"
        if session.tls:
            return "554 5.5.1 Error: TLS already active"
        if not self.offered or discarded:
            return "502 5.5.1 Error: command not implemented"
        if self.context is None:
            return "454 4.7.0 TLS not available due to local problem"
        return None

    def needs_starttls(self, session: Session, command: str) -> bool:
        """smtpd_tls_security_level = encrypt: every command but PRE_TLS waits for STARTTLS."""
        return self.level == "encrypt" and not self.wrapper and not session.tls and command not in PRE_TLS


def context_arguments(config: Config) -> tuple[str, str, str, str, str] | None:
    """server_context's arguments for smtpd_tls_*: certificate, key, the protocols and ciphers of the level (the
    mandatory ones for encrypt), and smtpd_tls_chain_files; None when TLS is off."""
    level = server_level(config)
    if level == "none" and not config.bool("smtpd_tls_wrappermode"):
        return None
    mandatory = "mandatory_" if level == "encrypt" else ""
    return (config.get("smtpd_tls_cert_file"), config.get("smtpd_tls_key_file"),
            config.get(f"smtpd_tls_{mandatory}protocols"),
            cipher_list(config, config.get(f"smtpd_tls_{mandatory}ciphers")), config.get("smtpd_tls_chain_files"))


def _context(config: Config, service: str) -> ssl.SSLContext | None:
    """The server context; a certificate that cannot be loaded disables TLS with Postfix's warnings."""
    arguments = context_arguments(config)
    if arguments is None:
        return None
    if arguments[4] and arguments[0]:
        maillog.warning(service, "Both smtpd_tls_chain_files and one or more of the legacy  smtpd_tls_cert_file, "
                        "smtpd_tls_eccert_file or smtpd_tls_dcert_file are non-empty; the legacy  parameters will "
                        "be ignored")
    try:
        return server_context(*arguments)
    except ChainError as exc:
        maillog.warning(service, "%s", exc.args[0])
        maillog.warning(service, "error loading private keys and certificates from: %s: disabling TLS support",
                        arguments[4])
        return None
    except (OSError, ssl.SSLError) as exc:
        if arguments[4]:
            maillog.warning(service, "error loading private keys and certificates from: %s: disabling TLS support",
                            arguments[4])
            maillog.warning(service, "TLS library problem: %s", exc.strerror or exc)
            return None
        maillog.warning(service, 'cannot get RSA certificate from file "%s": disabling TLS support', arguments[0])
        maillog.warning(service, "TLS library problem: %s", exc.strerror or exc)
        return None


def record(session: Session, ssl_object: ssl.SSLObject | None, tls: ServerTls, service: str) -> None:
    """Mark the session as encrypted and log Postfix's `Anonymous TLS connection established` line."""
    negotiated = TlsSession.of(ssl_object)
    session.tls = True
    if negotiated is not None:
        session.tls_protocol, session.tls_cipher, session.tls_cipher_bits, session.tls_details = \
            negotiated.protocol, negotiated.cipher, negotiated.bits, negotiated.details
        if tls.loglevel >= 1:
            maillog.info(service, "Anonymous TLS connection established from %s: %s", session.client,
                         negotiated.summary())
