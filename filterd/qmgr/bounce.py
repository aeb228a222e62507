"""Delivery status notifications (RFC 3464 multipart/report) to the sender, Postfix's wording: the bounce of
failed recipients, and the report of every recipient that `sendmail -v` asks for (Postfix's "record delivery")."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from filterd.maildate import mail_date
from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queueid import new_queue_id

_HUMAN = """This is the mail system at host {host}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system
"""

_RECORD_HUMAN = """This is the mail system at host {host}.

Enclosed is the mail delivery report that you requested.

                   The mail system
"""


_DELAY_HUMAN = """This is the mail system at host {{host}}.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

Your message could not be delivered for more than {hours} hour(s).
It will be retried until it is {days} day(s) old.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system
"""


@dataclass(frozen=True)
class Notice:
    """What kind of notification: its subject, its text (Postfix's template) and whether it reports undelivered
    mail (a failure: the returned part is the "Undelivered Message")."""

    subject: str
    human: str
    undelivered: bool = True
    delay: bool = False
    """A delay notice: the message's headers only, and when it will have been retried long enough."""


FAILURE = Notice("Undelivered Mail Returned to Sender", _HUMAN)
RECORD = Notice("Mail Delivery Status Report", _RECORD_HUMAN, undelivered=False)


def delay_notice(delay_warning_time: float, maximal_queue_lifetime: float) -> Notice:
    """Postfix's delay template, its hours and days in whole numbers as it writes them."""
    human = _DELAY_HUMAN.format(hours=int(delay_warning_time // 3600), days=int(maximal_queue_lifetime // 86400))
    return Notice("Delayed Mail (still being retried)", human, delay=True)


BOUNCE_SIZE_LIMIT = 50000
"""bounce_size_limit: a larger message comes back as its headers only."""
_IN_REPLY_TO = re.compile(r" \(in reply to [^()]* command\)$")
_WORD = re.compile(r"[^ \t]*")


def line_wrap(text: str, length: int = 79, indent: int = 4) -> list[str]:
    """Postfix's line_wrap() as the bounce daemon calls it: lines of at most `length` characters broken at
    blanks, those after the first indented by `indent`."""
    lines, start, word, curr_indent, curr_len = [], 0, 0, 0, length
    while word is not None:
        next_space = _WORD.match(text, word).end()
        if word > start and next_space - start > curr_len:
            lines.append(" " * curr_indent + text[start:word].rstrip())
            while word < len(text) and text[word].isspace():
                word += 1
            if start == 0:
                curr_indent, curr_len = curr_indent + indent, curr_len - indent
            start = word
        word = next_space + 1 if next_space < len(text) else None
    lines.append(" " * curr_indent + text[start:].rstrip())
    return lines


def _action(rcpt: Recipient) -> str:
    if rcpt.status == "deferred":
        return "delayed"
    if rcpt.status != "sent":
        return "failed"
    return "delivered" if rcpt.relay == "local" else "relayed"


def _human_line(rcpt: Recipient) -> str:
    """`<rcpt>: reason` for a failure, `<rcpt>: delivery via RELAY: what it said` for a delivery, wrapped."""
    named = f"<{rcpt.address}> (expanded from <{rcpt.orig}>)" if rcpt.orig else f"<{rcpt.address}>"
    text = f"{named}: delivery via {rcpt.relay}: {rcpt.text}" if rcpt.status == "sent" else f"{named}: {rcpt.text}"
    return "\n" + "\n".join(line_wrap(text)) + "\n"


def _recipient_block(rcpt: Recipient, retry_until: str = "") -> str:
    lines = [f"Final-Recipient: rfc822; {rcpt.address}"]
    if rcpt.orcpt:
        lines.append(f"Original-Recipient: {rcpt.orcpt}")
    elif rcpt.orig:
        lines.append(f"Original-Recipient: rfc822; {rcpt.orig}")
    lines += [f"Action: {_action(rcpt)}", f"Status: {rcpt.dsn or '5.0.0'}"]
    if rcpt.relay and rcpt.relay not in ("local", "none"):
        lines += line_wrap(f"Remote-MTA: dns; {rcpt.relay.split('[', 1)[0]}")
    if rcpt.text.startswith("host ") and " said: " in rcpt.text:
        lines += line_wrap(f"Diagnostic-Code: smtp; {_IN_REPLY_TO.sub('', rcpt.text.split(' said: ', 1)[1])}")
    else:
        lines += line_wrap(f"Diagnostic-Code: X-Postfix; {rcpt.text}")
    if retry_until:
        lines.append(f"Will-Retry-Until: {retry_until}")
    return "\n".join(lines)


def _original(qf: QueueFile, headers_only: bool) -> bytes:
    """The returned message with LF line ends: its headers, or all of it."""
    data = b""
    for chunk in qf.content():
        data += chunk
        if headers_only and (b"\r\n\r\n" in data or len(data) > 1_000_000):
            break
    data = data.replace(b"\r\n", b"\n")
    if headers_only:
        return data.split(b"\n\n", 1)[0] + b"\n"
    return data if data.endswith(b"\n") else data + b"\n"


def compose(qf: QueueFile, failed: list[Recipient], myhostname: str, notice: Notice = FAILURE,
            lifetime: float = 0.0) -> tuple[QueueEnvelope, bytes]:
    """The bounce message (or another notice) and its envelope (null sender, to the original sender), laid out
    as Postfix 3.7's bounce daemon and cleanup write it: the failed message returned whole (its headers only past
    bounce_size_limit, with RET=HDRS, or in a report of deliveries or a delay notice, whose recipients will be
    retried until the arrival plus `lifetime`), 8bit."""
    env, now, qid = qf.envelope, time.time(), new_queue_id()
    boundary = f"{env.queue_id}.{int(now)}/{myhostname}"
    headers_only = (not notice.undelivered or notice.delay or env.ret.upper() == "HDRS"
                    or env.size > BOUNCE_SIZE_LIMIT)
    retry_until = mail_date(env.arrival + lifetime) if notice.delay else ""
    human = notice.human.format(host=myhostname) + "".join(_human_line(r) for r in failed)
    status = "\n\n".join([f"Reporting-MTA: dns; {myhostname}\nX-Postfix-Queue-ID: {env.queue_id}\n"
                          f"X-Postfix-Sender: rfc822; {env.sender}\n"
                          f"Arrival-Date: {mail_date(env.arrival)}"]
                         + [_recipient_block(r, retry_until) for r in failed])
    encoding = "Content-Transfer-Encoding: 8bit\n"  # Postfix 3.7 writes notices as 8bit, BODY=7BIT mail's too
    returned = ("Undelivered " if notice.undelivered else "") + ("Message Headers" if headers_only else "Message")
    text = (f"Received: by {myhostname} (filterd)\n\tid {qid}; {mail_date(now)}\n"
            f"Date: {mail_date(now)}\n"
            f"From: Mail Delivery System <MAILER-DAEMON@{myhostname}>\n"
            f"Subject: {notice.subject}\nTo: {env.sender}\n"
            f"Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
            f"Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"{boundary}\"\n"
            f"{encoding}"
            f"Message-Id: <{time.strftime('%Y%m%d%H%M%S', time.localtime(now))}.{qid}@{myhostname}>\n\n"
            f"This is a MIME-encapsulated message.\n\n--{boundary}\n"
            f"Content-Description: Notification\n"
            f"Content-Type: text/plain; charset=utf-8\n{encoding}\n{human}\n"
            f"--{boundary}\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
            f"{status}\n\n--{boundary}\nContent-Description: {returned}\n"
            f"Content-Type: {'text/rfc822-headers' if headers_only else 'message/rfc822'}\n{encoding}\n"
            f"Return-Path: <{env.sender}>\n")
    body = text.encode("utf-8", "surrogateescape") + _original(qf, headers_only) + f"\n--{boundary}--\n".encode()
    content = body.replace(b"\n", b"\r\n")
    bounce = QueueEnvelope(qid, "", [Recipient(env.sender, orcpt=f"rfc822;{env.sender}")], arrival=now,
                           size=len(content), body_type="8BITMIME", is_bounce=True,
                           client="local", protocol="local")
    return bounce, content
