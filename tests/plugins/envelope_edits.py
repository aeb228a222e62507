"""Rewrites the envelope at end of message when the Subject asks: CHGFROM, ADDRCPT, DELRCPT."""

from filterd import Verdict, hookimpl


@hookimpl
def end_of_message(message, envelope):
    subject = message.get("Subject") or ""
    if "REWRITE" not in subject:
        return None
    verdict = Verdict.change_sender("bounces@example.org").with_edits(*Verdict.add_recipient("added@example.net").edits)
    return verdict.with_edits(*Verdict.delete_recipient(envelope.recipients[0]).edits)
