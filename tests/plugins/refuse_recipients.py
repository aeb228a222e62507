"""Test plugin: refuses <bad@...> recipients, discards messages for <drop@...>, refuses MAIL and DATA on cue."""

from filterd import Verdict, hookimpl


@hookimpl
def mail_from(sender):
    return Verdict.discard() if sender.startswith("discard@") else None


@hookimpl
def rcpt(recipient):
    if recipient.startswith("bad@"):
        return Verdict.reject("5.1.1 <%s>: Recipient address rejected: No such user" % recipient)
    return Verdict.discard() if recipient.startswith("drop@") else None
