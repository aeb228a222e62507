"""Rejects at end of message when the body holds the word BADWORD; discards when it holds DISCARDME."""

from filterd import Verdict, hookimpl


@hookimpl
def end_of_message(message):
    for line in message.body_lines():
        if b"BADWORD" in line:
            return Verdict.reject("5.7.1 Message content rejected")
        if b"DISCARDME" in line:
            return Verdict.discard("silently dropped")
    return None
