"""Delivery status notifications (RFC 3464 multipart/report) to the sender, Postfix's wording: the bounce of
failed recipients, and the report of every recipient that `sendmail -v` asks for (Postfix's "record delivery")."""

from __future__ import annotations

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


@dataclass(frozen=True)
class Notice:
    """What kind of notification: its subject, its text (Postfix's template) and its headers part's name."""

    subject: str
    human: str
    headers: str


FAILURE = Notice("Undelivered Mail Returned to Sender", _HUMAN, "Undelivered Message Headers")
RECORD = Notice("Mail Delivery Status Report", _RECORD_HUMAN, "Message Headers")


def _action(rcpt: Recipient) -> str:
    if rcpt.status == "deferred":
        return "delayed"
    if rcpt.status != "sent":
        return "failed"
    return "delivered" if rcpt.relay == "local" else "relayed"


def _human_line(rcpt: Recipient) -> str:
    """`<rcpt>: reason` for a failure, `<rcpt>: delivery via RELAY: what it said` for a delivery."""
    named = f"<{rcpt.address}> (expanded from <{rcpt.orig}>)" if rcpt.orig else f"<{rcpt.address}>"
    if rcpt.status == "sent":
        return f"\n{named}: delivery via {rcpt.relay}: {rcpt.text}\n"
    return f"\n{named}: {rcpt.text}\n"


def _recipient_block(rcpt: Recipient) -> str:
    lines = [f"Final-Recipient: rfc822; {rcpt.address}"]
    if rcpt.orcpt:
        lines.append(f"Original-Recipient: {rcpt.orcpt}")
    elif rcpt.orig:
        lines.append(f"Original-Recipient: rfc822; {rcpt.orig}")
    lines += [f"Action: {_action(rcpt)}", f"Status: {rcpt.dsn or '5.0.0'}"]
    if rcpt.relay and rcpt.relay not in ("local", "none"):
        lines.append(f"Remote-MTA: dns; {rcpt.relay.split('[', 1)[0]}")
    if rcpt.text.startswith("host ") and " said: " in rcpt.text:
        lines.append(f"Diagnostic-Code: smtp; {rcpt.text.split(' said: ', 1)[1]}")
    else:
        lines.append(f"Diagnostic-Code: X-Postfix; {rcpt.text}")
    return "\n".join(lines)


def _original_headers(qf: QueueFile) -> bytes:
    data = b""
    for chunk in qf.content():
        data += chunk
        if b"\r\n\r\n" in data or len(data) > 1_000_000:
            break
    return data.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n") + b"\n"


def compose(qf: QueueFile, failed: list[Recipient], myhostname: str,
            notice: Notice = FAILURE) -> tuple[QueueEnvelope, bytes]:
    """The bounce message (or another notice) and its envelope (null sender, to the original sender)."""
    env, now = qf.envelope, time.time()
    boundary = f"{env.queue_id}.{int(now)}/{myhostname}"
    human = notice.human.format(host=myhostname) + "".join(_human_line(r) for r in failed)
    status = "\n\n".join([f"Reporting-MTA: dns; {myhostname}\nX-Postfix-Queue-ID: {env.queue_id}\n"
                          f"X-Postfix-Sender: rfc822; {env.sender}\n"
                          f"Arrival-Date: {mail_date(env.arrival)}"]
                         + [_recipient_block(r) for r in failed])
    text = (f"From: MAILER-DAEMON@{myhostname} (Mail Delivery System)\n"
            f"Subject: {notice.subject}\nTo: {env.sender}\n"
            f"Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
            f"Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"{boundary}\"\n"
            f"Content-Transfer-Encoding: 8bit\nDate: {mail_date(now)}\n"
            f"Message-Id: <{new_queue_id()}@{myhostname}>\n\n"
            f"This is a MIME-encapsulated message.\n\n--{boundary}\n"
            f"Content-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n{human}\n"
            f"--{boundary}\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
            f"{status}\n\n--{boundary}\nContent-Description: {notice.headers}\n"
            f"Content-Type: text/rfc822-headers\nContent-Transfer-Encoding: 8bit\n\n")
    body = text.encode("utf-8", "surrogateescape") + _original_headers(qf) + f"\n--{boundary}--\n".encode()
    content = body.replace(b"\n", b"\r\n")
    bounce = QueueEnvelope(new_queue_id(), "", [Recipient(env.sender)], arrival=now, size=len(content),
                           is_bounce=True, client="local", protocol="local")
    return bounce, content
