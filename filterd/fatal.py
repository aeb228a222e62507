"""Errors a user causes, worded as one line after Postfix's `fatal:`, and exceptions worded for that line."""

from __future__ import annotations

import traceback


class FatalError(Exception):
    """An error the user can fix; `filterd` prints `filterd: fatal: TEXT` and exits 1, without a traceback."""


def exception_name(exc: BaseException) -> str:
    """The exception's type as a traceback names it: `ValueError`, `json.decoder.JSONDecodeError`."""
    kind = type(exc)
    if kind.__module__ in ("builtins", "__main__"):
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _raising_frame(exc: BaseException, prefer: str | None) -> traceback.FrameSummary | None:
    """The innermost frame of `prefer` (a file name) if any, else the innermost one outside importlib."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<frozen ")]
    preferred = [f for f in frames if f.filename == prefer]
    return (preferred or frames or [None])[-1]


def raised(exc: BaseException, prefer: str | None = None) -> str:
    """`FILE:LINE: TYPE: message` for an exception; a SyntaxError as `FILE:LINE:COLUMN: message`, as compilers say."""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = ":".join(str(part) for part in (exc.filename, exc.lineno, exc.offset) if part)
        return f"{where}: {exc.msg}"
    frame = _raising_frame(exc, prefer)
    where = f"{frame.filename}:{frame.lineno}: " if frame else ""
    text = " ".join(str(exc).splitlines())
    return f"{where}{exception_name(exc)}: {text}" if text else f"{where}{exception_name(exc)}"
