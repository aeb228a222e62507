"""POSIX regular expressions through the C library's regcomp(3)/regexec(3), as Postfix's regexp: tables.

Postfix's regexp: type calls the system's regcomp() and regexec(); on Debian that is glibc, so
filterd calls the same functions (ctypes) in the "C" locale that Postfix runs in, and gets the same
syntax (ERE, or BRE without the x flag), the same leftmost-longest submatches and the same error
texts. What differs: nothing on glibc; on another C library the system's own regex rules apply, as
they would for Postfix there.
"""

from __future__ import annotations

import ctypes
import ctypes.util

REG_EXTENDED = 1
REG_ICASE = 2
REG_NEWLINE = 4
REG_NOSUB = 8
REG_NOMATCH = 1
LC_CTYPE_MASK = 1 << 0
LC_COLLATE_MASK = 1 << 3
REGEX_T_SIZE = 64
NSUB_OFFSET = 48

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_libc.regcomp.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int)
_libc.regexec.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p,
                          ctypes.c_int)
_libc.regerror.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t)
_libc.regerror.restype = ctypes.c_size_t
_libc.regfree.argtypes = (ctypes.c_void_p,)
_libc.regfree.restype = None
_libc.newlocale.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
_libc.newlocale.restype = ctypes.c_void_p
_libc.uselocale.argtypes = (ctypes.c_void_p,)
_libc.uselocale.restype = ctypes.c_void_p
_C_LOCALE = _libc.newlocale(LC_CTYPE_MASK | LC_COLLATE_MASK, b"C", None)


class RegexMatch(ctypes.Structure):
    """regmatch_t: start and end offsets of one group, -1 when it took no part."""

    _fields_ = (("rm_so", ctypes.c_int), ("rm_eo", ctypes.c_int))


class PosixError(Exception):
    """regcomp() refused the pattern; the message is regerror()'s text."""


class _CLocale:
    """Run a C library call in the "C" locale, whatever locale this thread uses otherwise."""

    def __enter__(self):
        self.old = _libc.uselocale(_C_LOCALE)

    def __exit__(self, *exc):
        _libc.uselocale(self.old)


class PosixRegex:
    """One compiled regular expression; `groups` is re_nsub, the number of () subexpressions."""

    def __init__(self, pattern: bytes, cflags: int):
        self.pattern, self.cflags = pattern, cflags
        self._buf = ctypes.create_string_buffer(REGEX_T_SIZE)
        with _CLocale():
            error = _libc.regcomp(self._buf, pattern, cflags)
        if error:
            raise PosixError(self._message(error))
        self.groups = ctypes.c_size_t.from_buffer(self._buf, NSUB_OFFSET).value
        self._compiled = True

    def _message(self, error: int) -> str:
        text = ctypes.create_string_buffer(256)
        _libc.regerror(error, self._buf, text, len(text))
        return text.value.decode("utf-8", "replace")

    def search(self, subject: bytes, nmatch: int = 0) -> list[tuple[int, int]] | None:
        """Offsets of the whole match and the first nmatch groups, or None; raises on an exec error."""
        spans = (RegexMatch * (nmatch + 1))()
        with _CLocale():
            error = _libc.regexec(self._buf, subject, nmatch + 1 if nmatch else 0, spans, 0)
        if error == REG_NOMATCH:
            return None
        if error:
            raise PosixError(self._message(error))
        return [(s.rm_so, s.rm_eo) for s in spans]

    def __del__(self):
        if getattr(self, "_compiled", False):
            _libc.regfree(self._buf)
