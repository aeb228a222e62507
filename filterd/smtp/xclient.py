"""XCLIENT (Postfix's XCLIENT_README): a client in smtpd_authorized_xclient_hosts stands in for another, and the
session starts over as that client's from the greeting on, as Postfix's smtpd does to simulate a client's
restrictions and milters. The attributes' checks, in Postfix's words, and the command as SmtpServer answers it."""

from __future__ import annotations

import ipaddress
from typing import Any

from filterd import client_names
from filterd.addresses import valid_hostname
from filterd.smtp.xforward import TEMPUNAVAIL, UNAVAILABLE, forget_xforward
from filterd.xtext import unxtext

_HOSTNAME_LIMIT = 255


def parse_xclient(arg: str) -> dict[str, str] | str:
    """The attributes (upper-case names, xtext decoded, unprintable bytes as `?`), or Postfix's 501 for the first
    that is malformed."""
    found: dict[str, str] = {}
    for item in arg.split():
        given, _, raw = item.partition("=")
        if not raw:
            return "501 5.5.4 Error: attribute=value expected"
        if len(raw) > 255:
            return "501 5.5.4 Error: attribute value too long"
        value = "".join(c if c.isprintable() and c.isascii() else "?" for c in unxtext(raw))
        name = given.upper()
        if name not in _CHECKS:
            return f"501 5.5.4 Bad XCLIENT attribute name: {given}"
        if value not in _SPECIAL.get(name, (UNAVAILABLE,)) and not _CHECKS[name](value):
            return f"501 5.5.4 Bad {name} syntax: {value}"
        found[name] = value
    return found


def _address(value: str) -> bool:
    return _normalized(value) is not None


def _normalized(value: str) -> str | None:
    """normalize_mailhost_addr(): an IPv4 or IPv6 address, the latter perhaps as `IPv6:...`."""
    text = value[5:] if value[:5].lower() == "ipv6:" else value
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if value[:5].lower() == "ipv6:" and address.version != 6:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


def _port(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 5


_SPECIAL = {"NAME": (UNAVAILABLE, TEMPUNAVAIL), "REVERSE_NAME": (UNAVAILABLE, TEMPUNAVAIL), "PROTO": ()}
"""The values that stand for no value: [UNAVAILABLE] for most, [TEMPUNAVAIL] too for the names (a lookup that
failed for a while), none for PROTO."""
_CHECKS = {
    "NAME": valid_hostname, "REVERSE_NAME": valid_hostname, "ADDR": _address, "PORT": _port, "DESTADDR": _address,
    "DESTPORT": _port, "HELO": lambda v: len(v) <= _HOSTNAME_LIMIT,
    "PROTO": lambda v: v.upper() in ("SMTP", "ESMTP"), "LOGIN": lambda v: True,
}


def apply_xclient(session: Any, attributes: dict[str, str]) -> None:
    """The simulated client in the session: its names (with their lookup statuses), address, port, HELO name,
    protocol (SMTP unless given), login, and the server address it reached; the HELO name and the login are
    forgotten unless given, as Postfix's helo_reset and smtpd_sasl_auth_reset."""
    forget_xforward(session)
    session.helo, session.protocol = "", "SMTP"
    session.sasl_username = session.sasl_method = ""
    for name, value in attributes.items():
        if name in ("NAME", "REVERSE_NAME"):
            status = {UNAVAILABLE: client_names.FAIL, TEMPUNAVAIL: client_names.TEMP}.get(value, client_names.OK)
            value = value if status == client_names.OK else client_names.UNKNOWN
            if name == "NAME":
                session.client_name, session.client_name_status = value, status
            if name == "REVERSE_NAME" or status == client_names.OK:
                session.reverse_client_name, session.reverse_client_name_status = value, status
        elif name in ("ADDR", "DESTADDR"):
            address = "unknown" if value == UNAVAILABLE else _normalized(value)
            setattr(session, "client_address" if name == "ADDR" else "server_address", address)
        elif name in ("PORT", "DESTPORT"):
            port = int(value) if _port(value) else 0
            setattr(session, "client_port" if name == "PORT" else "server_port", port)
        elif name == "HELO":
            session.helo = "" if value == UNAVAILABLE else _neutered(value)
        elif name == "PROTO":
            session.protocol = value.upper()
        elif name == "LOGIN" and value != UNAVAILABLE:
            session.sasl_username, session.sasl_method = value, "XCLIENT"


def _neutered(value: str) -> str:
    """Postfix's neuter() of the characters that could mess up headers (NEUTER_CHARACTERS): they become `?`."""
    return "".join("?" if c in ' <>()\\";@' else c for c in value)


class XclientCommand:
    """SmtpServer's XCLIENT command (a mixin: the server's handler, settings and replies)."""

    async def smtp_XCLIENT(self, arg: str | None) -> None:
        """Postfix's checks in its order: a transaction in progress, no attribute, an unauthorized client (the one
        the session is now, a simulated one included), then the attributes; then the session starts over with the
        greeting."""
        session = self.handler.session
        real = session.unforwarded()
        if self.handler.txn is not None:
            await self.push("503 5.5.1 Error: MAIL transaction in progress")
        elif not arg:
            await self.push("501 5.5.4 Syntax: XCLIENT attribute=value...")
        elif not self.settings.xclient_allowed(real.client_name, real.client_address):
            await self.push("550 5.7.0 Error: insufficient authorization")
        elif isinstance(attributes := parse_xclient(arg), str):
            await self.push(attributes)
        else:
            await self.handler.restart(lambda: apply_xclient(session, attributes))
            self._set_rset_state()
            self.access_denied = False
            await self.push(self._greeting())
            self.current_ok = False  # Postfix's smtpd starts over before it counts the command: xclient=0/N
