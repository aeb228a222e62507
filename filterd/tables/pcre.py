"""pcre: tables (pcre_table(5)) on PCRE2 itself, the library Postfix's pcre: type is built with.

The engine is the `pypcre` binding of the system's libpcre2-8 (Debian's 10.42, the one
postfix-pcre links), called on bytes without UTF mode, as Postfix does; so patterns mean exactly
what they mean to Postfix. Measured alternatives: the `regex` module and Python's `re` differ from
PCRE (possessive and atomic details, \\R, \\h, (*VERB)s, POSIX classes, case folding of bytes) and
were 3 to 100 times slower on a 100-rule table; the `pcre2` wheel bundles another PCRE2 release.
What still differs from Postfix: nothing known; the X flag (PCRE_EXTRA) is obsolete with PCRE2
and ignored with Postfix's warning, as Postfix 3.7 does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pcre

from filterd import maillog
from filterd.tables.base import SERVICE
from filterd.tables.rule_parser import Dialect, PatternError
from filterd.tables.rules import Pattern

CASELESS = 0x00000008
DOLLAR_ENDONLY = 0x00000010
DOTALL = 0x00000020
EXTENDED = 0x00000080
MULTILINE = 0x00000400
UNGREEDY = 0x00040000
ANCHORED = 0x80000000
NO_UTF = int(pcre.Flag.NO_UTF) | int(pcre.Flag.NO_UCP)
FLAG_BITS = {ord("i"): CASELESS, ord("m"): MULTILINE, ord("s"): DOTALL, ord("x"): EXTENDED,
             ord("A"): ANCHORED, ord("E"): DOLLAR_ENDONLY, ord("U"): UNGREEDY}
INLINE = ((CASELESS, b"i"), (MULTILINE, b"m"), (DOTALL, b"s"), (EXTENDED, b"x"))
NUMBERED = re.compile(rb"\\[1-9gk]|\(\?(?:P?[=>&]|R|[0-9]|\(|C)|\(\*")


class PcreExpr:
    """One compiled pcre: pattern."""

    def __init__(self, source: bytes, flags: int):
        try:
            self.regex = pcre.compile(source, flags=flags | NO_UTF)
        except pcre.PcreError as exc:
            raise PatternError(f"error in regex at offset {getattr(exc, 'offset', 0)}: "
                               f"{exc.args[-1]}") from None
        self.groups = self.regex.groups

    def search(self, key: bytes):
        """The match, or None; a matching error (a PCRE2 limit) counts as no match, as in Postfix."""
        try:
            return self.regex.search(key)
        except pcre.PcreError as exc:
            maillog.warning(SERVICE, "pcre map: matching error: %s", exc.args[-1])
            return None

    def test(self, key: bytes) -> bool:
        return self.search(key) is not None

    def captures(self, key: bytes, count: int):
        found = self.search(key)
        return None if found is None else found.group


def joinable(pattern: Pattern) -> bool:
    """Whether the pattern means the same inside a combined alternation (no numbered references)."""
    return not pattern.flags & DOLLAR_ENDONLY and not NUMBERED.search(pattern.source)


def _alternative(pattern: Pattern) -> bytes:
    on = b"".join(letter for bit, letter in INLINE if pattern.flags & bit)
    off = b"".join(letter for bit, letter in INLINE if not pattern.flags & bit)
    anchor = b"\\A" if pattern.flags & ANCHORED else b""
    end = b"\\E\n" if pattern.flags & EXTENDED else b"\\E"
    options = on + b"-" + off if off else on
    return b"%s(?%s:%s%s)" % (anchor, options, pattern.source, end)


def combine(patterns: Sequence[Pattern]) -> PcreExpr | None:
    """One expression that matches when any of the patterns matches, or None if PCRE2 refuses it."""
    try:
        return PcreExpr(b"|".join(_alternative(p) for p in patterns), 0)
    except PatternError:
        return None


DIALECT = Dialect("pcre", CASELESS | DOTALL, FLAG_BITS, PcreExpr, obsolete_flags=b"X",
                  no_delimiter="ignoring this rule", out_of_range="out of range")
