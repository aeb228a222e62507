"""REDIRECT, BCC and HOLD chosen by Subject, to test routing verdicts in the proxy."""

from filterd import Verdict, hookimpl


@hookimpl
def header(header):
    if header.name.lower() != "subject":
        return None
    if "REDIRECTME" in header.value:
        return Verdict.redirect("archive@example.net")
    if "BCCME" in header.value:
        return Verdict.bcc("copy@example.net")
    if "HOLDME" in header.value:
        return Verdict.hold("suspicious")
    return None
