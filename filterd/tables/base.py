"""What every table shares: the str API over Postfix's byte semantics, and the UTF-8 key check.

Postfix (smtputf8_enable = yes, the default since compatibility level 1) refuses to look up a key
that is not valid UTF-8, with a warning; tables do the same. Keys and results are str; bytes that
are not UTF-8 travel as surrogate escapes, so a key decoded with errors="surrogateescape" keeps
its bytes.
"""

from __future__ import annotations

from filterd import maillog

SERVICE = "cleanup"


def printable(text: str) -> str:
    """The key as Postfix prints it in a warning: unprintable characters as '?'."""
    return "".join(c if c.isprintable() and not 0xDC80 <= ord(c) <= 0xDCFF else "?" for c in text)


class BaseTable:
    """A table's str lookup: encode, check UTF-8, look the bytes up, decode the result."""

    spec: str = ""
    fixed: bool = True
    """Its keys are strings (Postfix's DICT_FLAG_FIXED): partial keys are asked of it too (partial_keys.py)."""
    utf8: bool = True
    service: str = SERVICE

    def lookup(self, key: str) -> str | None:
        """The table's result for `key`, or None when nothing matches (or the key is refused)."""
        raw = key.encode("utf-8", "surrogateescape")
        if self.utf8 and not _valid_utf8(raw):
            maillog.warning(self.service, '%s: non-UTF-8 key "%s": malformed UTF-8 or invalid codepoint',
                            self.spec, printable(key))
            return None
        found = self.lookup_bytes(raw.split(b"\0", 1)[0])
        return None if found is None else found.decode("utf-8", "surrogateescape")

    def lookup_bytes(self, key: bytes) -> bytes | None:
        raise NotImplementedError


def _valid_utf8(raw: bytes) -> bool:
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
