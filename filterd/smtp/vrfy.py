"""VRFY as Postfix 3.7's smtpd answers it (vrfy_cmd): the argument's syntax, a trailing SMTPUTF8, the address
extracted from the whole argument, then (the front end asks the chain's vrfy hook: the recipient restrictions)
`252 2.0.0` and the argument as the client gave it. Sans-IO."""

from __future__ import annotations

from dataclasses import dataclass

from filterd.addresses import AddressRules
from filterd.smtp.address_argument import recipient_address, smtpd_tokens

DISABLED = "502 5.5.1 VRFY command is disabled"
SYNTAX = "501 5.5.4 Syntax: VRFY address [SMTPUTF8]"
BAD_ADDRESS = "501 5.1.3 Bad recipient address syntax"


@dataclass(frozen=True)
class Request:
    """One VRFY: the argument as smtpd shows it (its words joined by one space) and the address in it."""

    shown: str
    address: str | None
    """The internal form, None when malformed (Postfix's 501 5.1.3 and its `Illegal address syntax` warning)."""
    smtputf8: bool = False

    def printable(self) -> str:
        """The argument as Postfix's printable() logs it: control characters and broken UTF-8 as `?`."""
        return "".join("?" if ord(c) < 32 or ord(c) == 127 or 0xDC80 <= ord(c) <= 0xDCFF else c for c in self.shown)

    def verified(self) -> str:
        """Postfix's reply when nothing refuses the address: 252, never 250, as it cannot be sure (RFC 5321 3.5.3)."""
        return f"252 2.0.0 {self.shown}"


def read_request(argument: str | None, rules: AddressRules, smtputf8_offered: bool = True) -> Request | None:
    """The VRFY argument read as vrfy_cmd() reads it; None when there is no address (501 5.5.4 Syntax)."""
    words = smtpd_tokens(argument or "")
    smtputf8 = smtputf8_offered and len(words) > 0 and words[-1].upper() == "SMTPUTF8"
    if smtputf8:
        words = words[:-1]
    if not words:
        return None
    shown = " ".join(words)
    return Request(shown, recipient_address(shown, rules, smtputf8), smtputf8)
