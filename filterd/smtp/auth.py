"""The AUTH command (RFC 4954) as Postfix's smtpd answers it (smtpd_sasl_proto.c, smtpd_sasl_glue.c), Dovecot's
auth service deciding (xsasl_dovecot_server.c): the same checks in the same order, the same replies and warnings.

Responses are passed to Dovecot as the client sent them, in base64: Dovecot decodes PLAIN and LOGIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from filterd import maillog
from filterd.model import Session
from filterd.sasl.dovecot_client import AuthUnavailable, DovecotAuth
from filterd.sasl.dovecot_protocol import CONT, OK, AuthRequest, is_valid_base64, offered, printable

NOT_ENABLED = "503 5.5.1 Error: authentication not enabled"
ALREADY = "503 5.5.1 Error: already authenticated"
IN_TRANSACTION = "503 5.5.1 Error: MAIL transaction in progress"
SYNTAX = "501 5.5.4 Syntax: AUTH mechanism"
ABORTED = "501 5.7.0 Authentication aborted"
TOO_LONG = "500 5.5.6 SASL response limit exceeded"
MULTIPLE_AUTH_SENDERS = "503 5.5.4 Error: multiple AUTH= options"
SUCCESS = "235 2.7.0 Authentication successful"
FAILED = "535 5.7.8 Error: authentication failed: {reason}"
TEMPORARY = "454 4.7.0 Temporary authentication failure: {reason}"
NO_REASON = "(reason unavailable)"

Ask = Callable[[str], Awaitable["str | None"]]
"""Send a 334 challenge and return the client's response line; None when it was longer than the limit."""


@dataclass(frozen=True)
class SaslSettings:
    """smtpd_sasl_* as the SMTP server obeys them; None in SmtpSettings when smtpd_sasl_auth_enable = no."""

    server: DovecotAuth
    service: str = "smtp"
    security_options: tuple[str, ...] = ("noanonymous",)
    tls_security_options: tuple[str, ...] = ("noanonymous",)
    tls_auth_only: bool = False
    response_limit: int = 12288
    broken_clients: bool = False
    authenticated_header: bool = False

    @classmethod
    def from_config(cls, config) -> SaslSettings | None:
        if not config.bool("smtpd_sasl_auth_enable"):
            return None
        return cls(DovecotAuth(config.get("smtpd_sasl_path"), config.get("queue_directory")),
                   config.get("smtpd_sasl_service"), tuple(config.list("smtpd_sasl_security_options")),
                   tuple(config.list("smtpd_sasl_tls_security_options")), config.bool("smtpd_tls_auth_only"),
                   config.int("smtpd_sasl_response_limit"), config.bool("broken_sasl_auth_clients"),
                   config.bool("smtpd_sasl_authenticated_header"))


class SaslSession:
    """One connection's side of SMTP AUTH: what EHLO announces, and each AUTH command's dialogue."""

    def __init__(self, settings: SaslSettings, session: Session, log_service: str):
        self.settings, self.session, self.log_service = settings, session, log_service
        self.mechanisms: dict[str, frozenset[str]] = {}
        self.server_address = ""
        """The address the client connected to (Dovecot's lip)."""
        self.last_user = ""
        """The user named in Dovecot's last OK or FAIL: Postfix's warnings name it until the next one."""

    async def activate(self) -> bool:
        """Ask Dovecot for its mechanisms, as Postfix's smtpd does before its greeting; False (logged as Postfix
        logs it) when it cannot be asked: the session ends there."""
        try:
            self.mechanisms = await self.settings.server.mechanisms()
        except AuthUnavailable as exc:
            maillog.warning(self.log_service, "SASL: %s", exc)
        if not self._allowed():
            maillog.error(self.log_service, "no SASL authentication mechanisms")
            return False
        return True

    def reset(self) -> None:
        """Forget the login once TLS starts, as Postfix's smtpd deactivates and reactivates SASL after STARTTLS."""
        self.session.sasl_username = self.session.sasl_method = self.session.sasl_sender = ""
        self.last_user = ""

    def offered(self) -> list[str]:
        """The mechanisms for this session: none before TLS with smtpd_tls_auth_only."""
        if self.settings.tls_auth_only and not self.session.tls:
            return []
        return self._allowed()

    def _allowed(self) -> list[str]:
        options = self.settings.tls_security_options if self.session.tls else self.settings.security_options
        return offered(self.mechanisms, list(options))

    def ehlo_lines(self) -> list[str]:
        """`AUTH PLAIN LOGIN` (and `AUTH=PLAIN LOGIN` for broken clients), or nothing when AUTH is not offered."""
        names = " ".join(self.offered())
        if not names:
            return []
        return [f"AUTH {names}", f"AUTH={names}"] if self.settings.broken_clients else [f"AUTH {names}"]

    def refusal(self, arg: str | None, in_transaction: bool) -> str | None:
        """Postfix's checks before the dialogue, in its order; None when AUTH may go ahead."""
        if not self.offered():
            return NOT_ENABLED
        if self.session.sasl_username:
            return ALREADY
        if in_transaction:
            return IN_TRANSACTION
        if not arg or len(arg.split()) > 2:
            return SYNTAX
        return None

    async def authenticate(self, arg: str, ask: Ask) -> str:
        """The dialogue of one AUTH command; the final reply. On success the session holds the user."""
        mechanism, _, initial = arg.partition(" ")
        mechanism, initial = printable(mechanism), initial.strip() or None
        try:
            ok, text = await self._converse(mechanism, initial, ask)
        except AuthUnavailable as exc:
            ok, text = False, TEMPORARY.format(reason=exc)
            self._warn_failed(mechanism, str(exc))
        if ok:
            self.session.sasl_method, self.session.sasl_username = mechanism, text
            return SUCCESS
        return text

    async def _converse(self, mechanism: str, initial: str | None, ask: Ask) -> tuple[bool, str]:
        """(True, user) once Dovecot says OK; (False, the reply) when it fails or the client gives up. The mechanism
        is logged as the client wrote it, as Postfix logs it."""
        if mechanism.upper() not in self.offered():
            return False, self._failed(mechanism, "Invalid authentication mechanism")
        if initial is not None and not is_valid_base64(initial):
            return False, self._failed(mechanism, "Invalid base64 data in initial response")
        server, request_id = self.settings.server, self.settings.server.next_id()
        reply = await server.start(self._request(request_id, mechanism, initial))
        while reply.kind == CONT:
            response = await ask(reply.challenge)
            if response is None:
                return False, TOO_LONG
            if response == "*":
                maillog.warning(self.log_service, "%s: SASL %s authentication aborted", self.session.client,
                                mechanism)
                return False, ABORTED
            if not is_valid_base64(response):
                return False, self._failed(mechanism, "Invalid base64 data in continued response")
            reply = await server.step(request_id, response)
        self.last_user = reply.user
        if reply.kind == OK and reply.user:
            return True, reply.user
        return False, self._failed(mechanism, reply.reason or NO_REASON)

    def _request(self, request_id: int, mechanism: str, initial: str | None) -> AuthRequest:
        session = self.session
        return AuthRequest(request_id, mechanism.upper(), self.settings.service, self.server_address,
                           session.client_address, session.tls, initial)

    def _failed(self, mechanism: str, reason: str) -> str:
        self._warn_failed(mechanism, reason)
        return FAILED.format(reason=reason)

    def _warn_failed(self, mechanism: str, reason: str) -> None:
        maillog.warning(self.log_service, "%s: SASL %s authentication failed: %s, sasl_username=%s",
                        self.session.client, mechanism, reason, self.last_user or "(unavailable)")


def take_auth_sender(words: list[str], session: Session) -> tuple[list[str], str | None]:
    """MAIL FROM's AUTH=ADDRESS (RFC 4954 section 5) kept as session.sasl_sender, as the client wrote it (empty for
    <>), as Postfix keeps it; the other parameters, and Postfix's refusal of a second AUTH=."""
    session.sasl_sender, seen, others = "", False, []
    for word in words:
        if word[:5].upper() != "AUTH=":
            others.append(word)
        elif seen:
            return others, MULTIPLE_AUTH_SENDERS
        else:
            seen, session.sasl_sender = True, "" if word[5:] == "<>" else printable(word[5:])
    return others, None
