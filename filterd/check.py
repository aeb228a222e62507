"""`filterd check`: print what each plugin said at each hook, the outcome, and the message as it would leave."""

from __future__ import annotations

from typing import TextIO

from filterd.simulate import Outcome
from filterd.verdict import Action, AddHeader, ChangeHeader, DeleteHeader, Edit, InsertHeader, Verdict


def describe(outcome: Outcome) -> str:
    """One line for the transaction's fate, in Postfix's words."""
    if outcome.verdict is not None:
        if outcome.verdict.action is Action.DISCARD:
            return f"discard {outcome.verdict.text}".rstrip()
        code, dsn, text = outcome.verdict.reply()
        return f"{'defer' if code < 500 else 'reject'} {code} {dsn} {text}"
    parts = ["accept"]
    if outcome.hold:
        parts.append(f"hold ({outcome.hold})")
    if outcome.redirect:
        parts.append(f"redirect to {outcome.redirect}")
    if outcome.filter:
        parts.append(f"filter {outcome.filter}")
    parts.extend(f"bcc {a}" for a in outcome.bcc)
    return ", ".join(parts)


def _edit_text(edit: Edit) -> str:
    if isinstance(edit, AddHeader):
        return f"add header {edit.name}: {edit.value}"
    if isinstance(edit, InsertHeader):
        return f"insert header {edit.name}: {edit.value} at {edit.index}"
    if isinstance(edit, ChangeHeader) and edit.value:
        return f"change header {edit.name}[{edit.occurrence}]: {edit.value}"
    if isinstance(edit, ChangeHeader | DeleteHeader):
        return f"delete header {edit.name}[{edit.occurrence}]"
    return "replace body"


def shown(verdict: Verdict) -> str:
    """The verdict as a table result, followed by the edits it carries (which str() leaves out)."""
    return "; ".join([str(verdict)] + [_edit_text(edit) for edit in verdict.edits])


def report(outcome: Outcome, out: TextIO) -> int:
    """Exit status: 0 when the message would be accepted (held included), 1 when refused or discarded."""
    for call in outcome.trace:
        text = f"error ({call.error}) -> {shown(call.verdict)}" if call.error else shown(call.verdict)
        print(f"{call.hook:<15} {call.plugin:<24} {text}", file=out)
    for rcpt, verdict in outcome.rejected_recipients.items():
        print(f"recipient <{rcpt}> refused: {verdict}", file=out)
    print(f"result: {describe(outcome)}", file=out)
    if outcome.verdict is None:
        print("", file=out)
        out.write(outcome.message.as_bytes().decode("utf-8", "surrogateescape").replace("\r\n", "\n"))
        return 0
    return 1
