"""A rate limit in miniature, for replays with `filterd check`: a client's third message and every one after it
are refused at MAIL FROM (the count is kept per client address for the life of the process, as a rate limit's);
each accepted message gets `X-Session-Message: N`, its number within its SMTP session; the disconnect hook is
there so that a replay's trace shows where each session ends."""

from collections import Counter

from filterd import Verdict, hookimpl

LIMIT = 2
NOTE = "third_message"
_messages: Counter = Counter()


@hookimpl
def configure(config):
    _messages.clear()


@hookimpl
def mail_from(session):
    session.notes[NOTE] = session.notes.get(NOTE, 0) + 1
    _messages[session.client_address] += 1
    if _messages[session.client_address] > LIMIT:
        return Verdict.reject(f"5.7.1 Too many messages from {session.client_address}")
    return None


@hookimpl
def end_of_message(session):
    return Verdict.add_header("X-Session-Message", str(session.notes[NOTE]))


@hookimpl
def disconnect(session):
    return None
