"""Declares the one change it makes (a header) and reads no envelope, so Postfix sends it end of message
alone; refuses Subject REJECTME, and answers Subject UNDECLARED with a REDIRECT it did not declare."""

from filterd import Verdict, hookimpl


@hookimpl
def changes():
    return {"add_header"}


@hookimpl
def end_of_message(message):
    subject = message.get("Subject") or ""
    if "REJECTME" in subject:
        return Verdict.reject("5.7.1 Declared refusal")
    if "UNDECLARED" in subject:
        return Verdict.redirect("elsewhere@example.net")
    return Verdict.add_header("X-Declared", "yes")
