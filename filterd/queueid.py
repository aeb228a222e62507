"""Postfix-style long queue ids: time-sortable, unique per host (enable_long_queue_ids)."""

from __future__ import annotations

import itertools
import os
import time

_B52 = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
_B51 = _B52[:-1]
_counter = itertools.count()


def _encode(number: int, alphabet: str, width: int = 0) -> str:
    digits = ""
    while number or len(digits) < max(width, 1):
        number, digit = divmod(number, len(alphabet))
        digits = alphabet[digit] + digits
    return digits


def new_queue_id(now: float | None = None) -> str:
    """Seconds (6 base-52 digits) + microseconds (4) + 'z' + a per-process unique number, as Postfix's long ids."""
    now = time.time() if now is None else now
    seconds, micros = int(now), int((now % 1) * 1_000_000)
    unique = os.getpid() * 1_000_000 + next(_counter) % 1_000_000
    return _encode(seconds, _B52, 6) + _encode(micros, _B52, 4) + "z" + _encode(unique, _B51)
