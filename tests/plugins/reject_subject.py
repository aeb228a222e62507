"""Refuses any message whose Subject contains REJECTME (550) or DEFERME (451), at the header stage."""

from filterd import Verdict, hookimpl


@hookimpl
def header(header):
    if header.name.lower() != "subject":
        return None
    if "REJECTME" in header.value:
        return Verdict.reject("5.7.1 Subject refused by policy")
    if "DEFERME" in header.value:
        return Verdict.reject("451 4.7.1 Try again later")
    return None
