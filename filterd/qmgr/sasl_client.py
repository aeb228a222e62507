"""smtp_sasl_*: the queue's SMTP client logging in to the next hop (a smarthost), as Postfix's smtp(8) does: the
username:password that smtp_sasl_password_maps gives for the next hop as written (relayhost's `[host]:port`),
else for the server's name; a mechanism the server offers and the security options allow (noplaintext keeps
PLAIN and LOGIN out, over TLS as smtp_sasl_tls_security_options says); a refusal defers the mail, a 5XX too with
smtp_sasl_auth_soft_bounce. A server that offers no AUTH gets the mail without."""

from __future__ import annotations

from dataclasses import dataclass

import aiosmtplib

from filterd.tables import open_tables

MECHANISMS = ("cram-md5", "plain", "login")
"""What aiosmtplib can speak, in its order of preference."""
PLAINTEXT = frozenset({"plain", "login"})


class SaslFailed(ConnectionError):
    """The login to a server failed: the enhanced status and Postfix's reason for the deferral or bounce."""

    def __init__(self, dsn: str, reason: str):
        super().__init__(reason)
        self.dsn, self.reason = dsn, reason


@dataclass(frozen=True)
class ClientSasl:
    maps: tuple = ()
    options: frozenset[str] = frozenset({"noplaintext", "noanonymous"})
    tls_options: frozenset[str] = frozenset({"noplaintext", "noanonymous"})
    soft_bounce: bool = True

    @classmethod
    def from_config(cls, config) -> ClientSasl | None:
        """None unless smtp_sasl_auth_enable."""
        if not config.bool("smtp_sasl_auth_enable"):
            return None
        return cls(tuple(open_tables(config.get("smtp_sasl_password_maps"))),
                   frozenset(config.list("smtp_sasl_security_options")),
                   frozenset(config.list("smtp_sasl_tls_security_options")),
                   config.bool("smtp_sasl_auth_soft_bounce"))

    def credentials(self, nexthop: str, name: str) -> tuple[str, str] | None:
        """(username, password) for the next hop as written, else for the server's name; None without."""
        for key in dict.fromkeys(key for key in (nexthop, name) if key):
            for table in self.maps:
                found = table.lookup(key)
                if found is not None:
                    username, _, password = found.partition(":")
                    return username, password
        return None

    def allowed(self, offered: list[str], tls: bool) -> list[str]:
        """The mechanisms to try, best first: offered, spoken here, and allowed by the security options."""
        options = self.tls_options if tls else self.options
        return [name for name in MECHANISMS if name in offered
                and not ("noplaintext" in options and name in PLAINTEXT)]

    async def log_in(self, smtp: aiosmtplib.SMTP, nexthop: str, name: str, address: str, tls: bool) -> None:
        """AUTH on a session after EHLO (and STARTTLS); SaslFailed with Postfix's reason when it does not work."""
        found = self.credentials(nexthop, name)
        if found is None or not smtp.supports_extension("auth"):
            return
        server = f"{name}[{address}]"
        usable = self.allowed(smtp.server_auth_methods, tls)
        if not usable:
            raise SaslFailed("4.7.0", f"SASL authentication failed; cannot authenticate to server {server}: "
                                      "no mechanism available")
        method = getattr(smtp, f"auth_{usable[0].replace('-', '')}")
        try:
            await method(*found)
        except aiosmtplib.SMTPResponseException as exc:
            reply = f"{exc.code} {exc.message}"
            dsn = reply.split()[1] if len(reply.split()) > 1 and reply.split()[1][:1] in "45" else \
                f"{exc.code // 100}.7.0"
            if self.soft_bounce and dsn.startswith("5"):
                dsn = "4" + dsn[1:]
            raise SaslFailed(dsn, f"SASL authentication failed; server {server} said: {reply}") from exc
