"""Dates as Postfix writes them, in local time and with English names whatever the locale (Postfix sets none).

Headers (Received:, Date:, a bounce's Arrival-Date:) carry Postfix's mail_date() form, its day of the month
padded with a space as strftime's %e pads it: `Thu,  3 Dec 2026 06:00:05 +0000 (UTC)`.
"""

from __future__ import annotations

import time

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def mail_date(when: float | None = None) -> str:
    """Postfix's mail_date(): `%a, %e %b %Y %H:%M:%S +hhmm (%Z)` for `when` (now when None)."""
    local = time.localtime(when)
    hours, minutes = divmod(abs(local.tm_gmtoff) // 60, 60)
    sign = "-" if local.tm_gmtoff < 0 else "+"
    return (f"{DAYS[local.tm_wday]}, {local.tm_mday:2d} {MONTHS[local.tm_mon - 1]} {local.tm_year} "
            f"{local.tm_hour:02d}:{local.tm_min:02d}:{local.tm_sec:02d} {sign}{hours:02d}{minutes:02d} "
            f"({local.tm_zone})")


def log_stamp(when: float) -> str:
    """The time stamp of a maillog_file line, as Postfix's postlogd writes it: `Dec 03 06:00:05`."""
    local = time.localtime(when)
    return f"{MONTHS[local.tm_mon - 1]} {local.tm_mday:02d} {local.tm_hour:02d}:{local.tm_min:02d}:{local.tm_sec:02d}"
