"""smtpd_discard_ehlo_keywords: the EHLO keywords that are not offered, read as Postfix's ehlo_mask() reads them
(names in any case, separated by commas or spaces, unknown names ignored, `silent-discard` to log nothing)."""

from __future__ import annotations

import re
from dataclasses import dataclass

NAMES = ("8BITMIME", "AUTH", "ETRN", "PIPELINING", "SIZE", "VERP", "VRFY", "XCLIENT", "XFORWARD", "STARTTLS",
         "ENHANCEDSTATUSCODES", "DSN", "SMTPUTF8", "CHUNKING")
"""The keywords Postfix can discard, in the order its log line names them."""
SILENT = "SILENT-DISCARD"


@dataclass(frozen=True)
class DiscardedKeywords:
    """The keywords to leave out of the EHLO reply."""

    names: frozenset[str] = frozenset()
    silent: bool = False

    @classmethod
    def parse(cls, value: str) -> DiscardedKeywords:
        words = {word.upper() for word in re.split(r"[\s,]+", value) if word}
        return cls(frozenset(words & set(NAMES)), SILENT in words)

    def __contains__(self, keyword: str) -> bool:
        return keyword.upper() in self.names

    def offered(self, lines: list[str]) -> list[str]:
        """The EHLO reply's lines (the host name first) without the discarded keywords (`AUTH=` is AUTH's)."""
        return lines[:1] + [line for line in lines[1:] if re.split(r"[ =]", line, 1)[0].upper() not in self.names]

    def log_text(self) -> str | None:
        """What Postfix's `discarding EHLO keywords: ...` line names; None when it logs none (nothing discarded,
        silent-discard, or ENHANCEDSTATUSCODES among them)."""
        if not self.names or self.silent or "ENHANCEDSTATUSCODES" in self.names:
            return None
        return " ".join(name for name in NAMES if name in self.names)
