"""Replace a file atomically, as Postfix's edit_file(3): FILE.tmp locked, written, fsynced, renamed over FILE.

The temporary name is fixed, so an interrupted edit leaves no litter with random names, and the exclusive
lock on it makes concurrent edits take turns: each reads FILE only once it holds the lock.
"""
from __future__ import annotations

import fcntl
import os
from typing import Callable

SUFFIX = ".tmp"


class EditFileError(Exception):
    """A file could not be read or replaced; the text says which and why, as Postfix's messages do."""


def _open_locked(tmp: str, mode: int) -> int:
    """Open and lock FILE.tmp; retry when another editor renamed the file we locked away meanwhile."""
    while True:
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_WRONLY, mode)
        except OSError as error:
            raise EditFileError(f"open {tmp}: {error.strerror}") from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(tmp))
        except FileNotFoundError:
            same = False
        if same:
            os.fchmod(fd, mode)
            return fd
        os.close(fd)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as source:
            return source.read()
    except OSError as error:
        raise EditFileError(f"open {path} for reading: {error.strerror}") from None


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def _fsync_directory(path: str) -> None:
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def edit_file(path: str, edit: Callable[[str], str], mode: int = 0o644) -> None:
    """Replace `path` with edit(its text); on any error, or an exception from `edit`, `path` is left as it was."""
    tmp = path + SUFFIX
    fd = _open_locked(tmp, mode)
    try:
        text = edit(_read(path))
        os.ftruncate(fd, 0)
        _write_all(fd, text.encode("utf-8", "surrogateescape"))
        os.fsync(fd)
        os.rename(tmp, path)
    except BaseException as error:
        os.unlink(tmp)
        if isinstance(error, OSError):
            raise EditFileError(f"close {tmp}: {error.strerror}") from None
        raise
    finally:
        os.close(fd)
    _fsync_directory(path)
