"""XFORWARD (Postfix's XFORWARD_README): the attributes' syntax checks, in Postfix's words, the original client's
attributes taken into the session until the transaction ends, and the command as SmtpServer answers it."""

from __future__ import annotations

from typing import Any

from filterd.xtext import unxtext

_XFORWARD_FIELDS = {"NAME": "client_name", "ADDR": "client_address", "PROTO": "protocol", "HELO": "helo"}
_XFORWARD_NAMES = frozenset({*_XFORWARD_FIELDS, "PORT", "SOURCE", "IDENT"})
UNAVAILABLE, TEMPUNAVAIL = "[UNAVAILABLE]", "[TEMPUNAVAIL]"
_UNAVAILABLE = (UNAVAILABLE, TEMPUNAVAIL)
FORWARDED = ("client_address", "client_port", "client_name", "reverse_client_name", "client_name_status",
             "reverse_client_name_status", "helo", "protocol", "forwarded_ident", "forwarded_source")
"""The session's attributes that XFORWARD may change: the connection's own are kept aside (Session.xforwarded) and
come back when the transaction ends (HELO, EHLO, RSET, the end of DATA), as Postfix's mail_reset() forgets the
forwarded ones."""


def forget_xforward(session: Any) -> None:
    """The connection's own client again, once the transaction is over."""
    if session.xforwarded:
        for name, value in session.xforwarded.items():
            setattr(session, name, value)
        session.xforwarded = None


def xforward_refusal(arg: str) -> str | None:
    """Postfix's 501 for a malformed XFORWARD (an attribute without a value, an unknown one, a PORT that is not
    a number of at most five digits); None when it is well formed."""
    for item in arg.split():
        key, _, value = item.partition("=")
        if not value:
            return "501 5.5.4 Syntax: XFORWARD attribute=value..."
        if key.upper() not in _XFORWARD_NAMES:
            return f"501 5.5.4 Bad XFORWARD attribute name: {key}"
        value = unxtext(value)
        if key.upper() == "PORT" and value not in _UNAVAILABLE and not (
                value.isascii() and value.isdigit() and len(value) <= 5):
            return f"501 5.5.4 Bad PORT syntax: {value}"
    return None


def apply_xforward(session: Any, arg: str) -> None:
    """Take the original client's attributes from XFORWARD (already authorised); a NAME stands for the names filterd
    looked up, and their statuses are read from it. The connection's own are kept in session.xforwarded."""
    if not session.xforwarded:
        session.xforwarded = {name: getattr(session, name) for name in FORWARDED}
    for item in arg.split():
        key, _, value = item.partition("=")
        value = unxtext(value)
        if value in _UNAVAILABLE:
            continue
        if key.upper() == "PORT" and value.isascii() and value.isdigit():
            session.client_port = int(value)
        elif key.upper() in _XFORWARD_FIELDS:
            setattr(session, _XFORWARD_FIELDS[key.upper()], value)
        elif key.upper() == "IDENT":
            session.forwarded_ident = value
        elif key.upper() == "SOURCE" and value.upper() in ("LOCAL", "REMOTE"):
            session.forwarded_source = value.upper()
        if key.upper() == "NAME":
            session.reverse_client_name = session.client_name_status = session.reverse_client_name_status = ""


class XforwardCommand:
    """SmtpServer's XFORWARD command (a mixin: the server's handler, settings and replies)."""

    async def smtp_XFORWARD(self, arg: str | None) -> None:
        """Postfix's checks in its order: a transaction in progress, no attribute, an unauthorized client (the
        connection's own, whatever an earlier XFORWARD said), then the attributes."""
        session = self.handler.session
        if self.handler.txn is not None:
            await self.push("503 5.5.1 Error: MAIL transaction in progress")
        elif not arg:
            await self.push("501 5.5.4 Syntax: XFORWARD attribute=value...")
        elif not self.settings.xforward_allowed(session.unforwarded().client_address):
            await self.push("550 5.7.0 Error: insufficient authorization")
        elif refused := xforward_refusal(arg):
            await self.push(refused)
        else:
            apply_xforward(session, arg)
            await self.push("250 2.0.0 Ok")

    def _set_post_data_state(self) -> None:
        """The transaction's end (also RSET, HELO and EHLO, through _set_rset_state): the real client again."""
        super()._set_post_data_state()
        forget_xforward(self.handler.session)
