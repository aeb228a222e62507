"""The replies restrictions give, as smtpd_check_reject() makes them: the code decides reject or defer, and the
enhanced status code follows the code's class."""

from __future__ import annotations

import logging

from filterd import Action, Verdict

_MAPPED = {"Sender address": {"1": "1.7", "2": "1.8", "3": "1.7", "4": "1.7", "5": "1.0", "6": "1.7", "7": "1.7",
                              "8": "1.8"},
           "Recipient address": {"1": "1.1", "2": "1.2", "3": "1.3", "4": "1.4", "5": "1.5", "6": "1.6", "7": "1.3",
                                 "8": "1.2"}}
"""smtpd_dsn_fix's table: an address status (X.1.Y) as the address being refused has it (1.0 for the rest)."""
_log = logging.getLogger("filterd.restrictions")


def refusal(code: int, dsn: str, text: str) -> Verdict:
    """A 5XX reject or 4XX defer, its status's class made the code's (`450` with `5.7.1` is `4.7.1`)."""
    action = Action.DEFER if code // 100 == 4 else Action.REJECT
    return Verdict(action, text, code, f"{str(code)[0]}{dsn[1:]}")



def dsn_fix(status: str, reply_class: str) -> str:
    """smtpd_dsn_fix: an address status (X.1.Y) given while refusing a sender made a sender's (5.1.1 is 5.1.7), a
    recipient's a recipient's (5.1.7 is 5.1.3), anything else's 5.0.0; logged as Postfix logs it when it changes."""
    if not (status[:1].isdigit() and status[1:4] == ".1."):
        return status
    mapped = _MAPPED.get(reply_class)
    fixed = f"{status[0]}.{mapped.get(status[4:], '1.0') if mapped is not None else '0.0'}"
    if fixed[2:] != status[2:]:
        _log.info("mapping DSN status %s into %s status %s", status, reply_class, fixed, extra={"service": "smtpd"})
    return fixed
