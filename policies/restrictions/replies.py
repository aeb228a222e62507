"""The replies restrictions give, as smtpd_check_reject() makes them: the code decides reject or defer, and the
enhanced status code follows the code's class."""

from __future__ import annotations

from filterd import Action, Verdict


def refusal(code: int, dsn: str, text: str) -> Verdict:
    """A 5XX reject or 4XX defer, its status's class made the code's (`450` with `5.7.1` is `4.7.1`)."""
    action = Action.DEFER if code // 100 == 4 else Action.REJECT
    return Verdict(action, text, code, f"{str(code)[0]}{dsn[1:]}")

