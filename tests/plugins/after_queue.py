"""The after-queue `queue` hook, steered by Subject: bounce, defer, discard, hold, redirect, or tag."""

from filterd import Verdict, hookimpl


@hookimpl
def queue(envelope, message):
    subject = message.get("Subject") or ""
    if "AQ-REJECT" in subject:
        return Verdict.reject("5.7.1 Refused after queue")
    if "AQ-DISCARD" in subject:
        return Verdict.discard("dropped after queue")
    if "AQ-HOLD" in subject:
        return Verdict.hold("held after queue")
    if "AQ-REDIRECT" in subject:
        return Verdict.redirect("archive@example.net")
    return Verdict.add_header("X-After-Queue", f"checked {envelope.queue_id}")
