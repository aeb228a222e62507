"""One transaction's state as the chain decides it: routing, hold, edits, the final verdict.

Verdicts are folded in here, by the core; the edits they carry are applied in one go by
`filterd.edits.apply` once the chain is done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from filterd import maillog
from filterd.content import BodyLine
from filterd.model import Envelope, Header, Message, Session, encode
from filterd.verdict import Action, Verdict
from filterd import edits as _edits


@dataclass
class Call:
    """One plugin call and what it answered, for `filterd check` and the logs."""

    hook: str
    plugin: str
    verdict: Verdict
    error: str = ""


@dataclass
class Transaction:
    """Session + envelope + message, and everything the chain decided about them."""

    session: Session
    envelope: Envelope
    message: Message | None = None
    hold: str | None = None
    redirect: str | None = None
    filter: str | None = None
    bcc: list[str] = field(default_factory=list)
    edits: list[_edits.AnyEdit] = field(default_factory=list)
    passed: bool = False
    final: Verdict | None = None
    trace: list[Call] | None = None
    service: str = "smtpd"

    def absorb(self, hook: str, verdict: Verdict, subject: object = None) -> None:
        """Fold one non-final verdict into the transaction: routing, hold, edits, log lines."""
        action = verdict.action
        header = subject if isinstance(subject, Header) else None
        line = subject if isinstance(subject, BodyLine) else None
        if action is Action.HOLD:
            self.hold = verdict.text or "hold"
        elif action is Action.REDIRECT:
            self.redirect = verdict.text
        elif action is Action.FILTER:
            self.filter = verdict.text
        elif action is Action.BCC and verdict.text not in self.bcc:
            self.bcc.append(verdict.text)
        elif action is Action.PASS:
            self.passed = True
        elif action is Action.PREPEND:
            self.edits.append(_edits.LineEdit(line.index, before=encode(verdict.text)) if line
                              else _edits.Before(header, verdict.text))
        elif action is Action.REPLACE and (header or line):
            self.edits.append(_edits.LineEdit(line.index, encode(verdict.text)) if line
                              else _edits.Replace(header, verdict.text))
        elif action in (Action.IGNORE, Action.STRIP) and (header or line):
            self.edits.append(_edits.LineEdit(line.index, None) if line else _edits.Remove(header))
        self.edits.extend(verdict.edits)
        self.log_verdict(hook, verdict, subject)

    def log_verdict(self, hook: str, verdict: Verdict, subject: object = None) -> None:
        """Log an action in Postfix's words; PREPEND, REPLACE, IGNORE, DUNNO and OK leave no line."""
        word = _LOG_WORDS.get(verdict.action)
        if word is None:
            return
        what = self._what(hook, subject)
        qid = self.envelope.queue_id or "NOQUEUE"
        if word == "warning" and hook not in ("header", "body"):
            word = "warn"
        if verdict.final:
            code, dsn, text = verdict.reply()
            reply = f"{code} {dsn} {text}" if verdict.action is not Action.DISCARD else (verdict.text or "discarded")
        else:
            reply = verdict.text or _GENERIC.get(verdict.action, "")
        if hook in ("header", "body"):
            maillog.info(self.service, "%s: %s: %s from %s; %s: %s", qid, word, what, self.session.client,
                         self.envelope_text(), reply)
        else:
            maillog.info(self.service, "%s: %s: %s from %s: %s; %s", qid, word, what, self.session.client,
                         reply, self.envelope_text())

    def envelope_text(self) -> str:
        """Postfix's `from=<S> to=<R> proto=ESMTP helo=<H>` tail."""
        to = f" to=<{self.envelope.recipients[0]}>" if self.envelope.recipients else ""
        sender = f"from=<{self.envelope.sender}>" if self.envelope.sender is not None else ""
        return f"{sender}{to} proto={self.session.protocol} helo=<{self.session.helo}>".strip()

    @staticmethod
    def _what(hook: str, subject: object) -> str:
        if isinstance(subject, Header):
            return f"header {subject.text.replace(chr(10), ' ')[:200]}"
        if isinstance(subject, BodyLine):
            return f"body {subject.text.decode('utf-8', 'replace')[:200]}"
        return _EVENT_NAMES.get(hook, hook.upper())

    def apply_edits(self) -> Message:
        """The message as it will leave: every recorded edit applied, in order."""
        assert self.message is not None
        return _edits.apply(self.message, self.edits)


_LOG_WORDS = {
    Action.REJECT: "reject", Action.DEFER: "reject", Action.DISCARD: "discard", Action.HOLD: "hold",
    Action.WARN: "warning", Action.INFO: "info", Action.REDIRECT: "redirect", Action.FILTER: "filter",
    Action.BCC: "bcc", Action.PASS: "pass", Action.STRIP: "strip",
}
_GENERIC = {
    Action.HOLD: "held", Action.WARN: "warning", Action.INFO: "info", Action.PASS: "pass", Action.STRIP: "strip",
}
_EVENT_NAMES = {
    "connect": "CONNECT", "helo": "EHLO", "mail_from": "MAIL", "rcpt": "RCPT", "data": "DATA",
    "end_of_headers": "END-OF-HEADERS", "end_of_message": "END-OF-MESSAGE", "queue": "QUEUE",
    "disconnect": "DISCONNECT",
}
