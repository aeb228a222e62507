"""One transaction's state as the chain decides it: routing, hold, edits, the final verdict.

Verdicts are folded in here, by the core; the edits they carry are applied in one go by
`filterd.edits.apply` once the chain is done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from filterd import maillog
from filterd import edits as _edits
from filterd.addresses import quote_local, unquote_local
from filterd.content import BodyLine, Header, encode
from filterd.model import Envelope, Message, Session
from filterd.score import Scored
from filterd.verdict import Action, AuthResult, Verdict


@dataclass
class Call:
    """One plugin call and what it answered, for `filterd check` and the logs."""

    hook: str
    plugin: str
    verdict: Verdict
    error: str = ""
    observed: bool = False
    """The plugin is in observe mode and the verdict was final: logged as reject_warning, not enforced."""


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
    command: str = ""
    """The command being answered when its hook's name does not say it (HELO or EHLO), for the log."""
    symbols: list[Scored] = field(default_factory=list)
    """The symbols plugins added to the message's score, in the order they came."""
    auth_results: tuple[AuthResult, ...] = ()
    """The authentication results plugins reported, in the order they came (the hooks' `auth_results`)."""

    def absorb(self, hook: str, verdict: Verdict, subject: object = None) -> None:
        """Fold one non-final verdict into the transaction: routing, hold, edits, log lines."""
        if verdict.action is Action.DUNNO and type(verdict) is Verdict:
            self.edits.extend(verdict.edits)
            return
        for earlier in getattr(verdict, "earlier", ()):
            self.absorb(hook, earlier, subject)
        at_hand = subject.index if isinstance(subject, BodyLine) else None
        subject = _subject(verdict, subject)
        self._route(verdict)
        self.edits.extend(_content_edits(verdict, subject, at_hand))
        self.edits.extend(verdict.edits)
        self._log(hook, verdict, subject)

    def route_earlier(self, verdict: Verdict) -> None:
        """The routing of the verdicts a final one carries (HOLD, FILTER, REDIRECT, BCC met before a refusal): as
        Postfix's smtpd saves them for the transaction, a refused recipient does not take them away."""
        for earlier in getattr(verdict, "earlier", ()):
            if earlier.action in (Action.HOLD, Action.FILTER, Action.REDIRECT, Action.BCC):
                self._route(earlier)

    def _route(self, verdict: Verdict) -> None:
        action = verdict.action
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

    def log_verdict(self, hook: str, verdict: Verdict, subject: object = None) -> None:
        """Log an action in Postfix's words (with the verdicts it carries); DUNNO, OK and IGNORE leave no line."""
        for earlier in getattr(verdict, "earlier", ()):
            self.log_verdict(hook, earlier, subject)
        self._log(hook, verdict, _subject(verdict, subject))

    def log_warning(self, hook: str, verdict: Verdict, subject: object = None) -> None:
        """An observed plugin's final verdict, logged as Postfix's warn_if_reject logs: `reject_warning`."""
        self._log(hook, verdict, _subject(verdict, subject), "reject_warning")

    def _log(self, hook: str, verdict: Verdict, subject: object, word: str | None = None) -> None:
        if isinstance(subject, (Header, BodyLine, _edits.InBody)):
            self._log_content(verdict, subject, word)
            return
        if isinstance(subject, _edits.MimeError):
            self._log_mime_error(verdict, subject)
            return
        if verdict.action is Action.WARN and verdict.code is not None:
            word = "reject_warning"
        word = word or _LOG_WORDS.get(verdict.action)
        if word is None:
            return
        what = self.command or _EVENT_NAMES.get(hook, hook.upper())
        if word == "warning":
            word = "warn"
        if verdict.final or word == "reject_warning":
            code, dsn, text = verdict.reply()
            reply = f"{code} {dsn} {text}" if verdict.action is not Action.DISCARD else (verdict.text or "discarded")
        else:
            reply = verdict.logged or verdict.text or _GENERIC.get(verdict.action, "")
        tail = self.envelope_text(subject if isinstance(subject, str) else None, hook not in _EVERY_RECIPIENT)
        maillog.info(self.service, "%s: %s: %s from %s: %s; %s", self.envelope.queue_id or "NOQUEUE", word, what,
                     self.session.unforwarded().client, reply, tail)

    def _log_content(self, verdict: Verdict, subject: object, word: str | None = None) -> None:
        """cleanup(8)'s line for a header_checks / body_checks action, word for word."""
        word = word or _CONTENT_WORDS.get(verdict.action)
        if word is None:
            return
        text = verdict.text
        if verdict.action in (Action.REJECT, Action.DEFER):
            text = " ".join(verdict.reply()[1:])
        tail = f"{self._cleanup_envelope()}: {_printable(text)}" if text else self._cleanup_envelope()
        maillog.info(CLEANUP, "%s: %s: %s from %s;%s", self.envelope.queue_id or "NOQUEUE", word,
                     _content_what(subject), self.session.client, tail)

    def _log_mime_error(self, verdict: Verdict, subject: _edits.MimeError) -> None:
        """cleanup(8)'s report of a MIME error (the header cut at 100 bytes); the rejection it causes
        at the end of the message (a MimeError without text) leaves no second line."""
        if not subject.text:
            return
        to = self.envelope.recipients[-1] if self.envelope.recipients else "unknown"
        maillog.info(CLEANUP, "%s: reject: mime-error %s: %s from %s; from=<%s> to=<%s>",
                     self.envelope.queue_id or "NOQUEUE", verdict.text, _printable(encode(subject.text)[:100]),
                     self.session.client, self.envelope.sender, to)

    def _cleanup_envelope(self) -> str:
        """cleanup's ` from=<S> to=<R> proto=P helo=<H>`: the last recipient, the HELO name if one was given."""
        parts = [] if self.envelope.sender is None else [f"from=<{_logged(self.envelope.sender)}>"]
        if self.envelope.recipients:
            parts.append(f"to=<{_logged(self.envelope.recipients[-1])}>")
        parts.append(f"proto={self.session.protocol}")
        if self.session.helo:
            parts.append(f"helo=<{self.session.helo}>")
        return "".join(" " + part for part in parts)

    def envelope_text(self, recipient: str | None = None, name_one: bool = True) -> str:
        """Postfix's `from=<S> to=<R> proto=ESMTP helo=<H>` tail; like smtpd, without what is not known. At RCPT,
        R is the recipient at hand (as given: `recipient`), else the first accepted; not `name_one` of several,
        none. The connection's own protocol and HELO name, as smtpd logs them under XFORWARD."""
        if recipient is not None:
            to = f" to=<{_logged(recipient)}>"
        else:
            named = self.envelope.recipients and (name_one or len(self.envelope.recipients) == 1)
            to = f" to=<{_logged(self.envelope.recipients[0])}>" if named else ""
        sender = f"from=<{_logged(self.envelope.sender)}>" if self.envelope.sender is not None else ""
        session = self.session.unforwarded()
        helo = f" helo=<{session.helo}>" if session.helo else ""
        return f"{sender}{to} proto={session.protocol}{helo}".strip()

    def apply_edits(self) -> Message:
        """The message as it will leave: every recorded edit applied, in order."""
        assert self.message is not None
        return _edits.apply(self.message, self.edits)


def _logged(address: str) -> str:
    """An address as smtpd logs it (info_log_address_format = external): the local part quoted where it must be."""
    return quote_local(unquote_local(address)) if address else address


CLEANUP = "cleanup"
"""Postfix logs header_checks and body_checks actions as cleanup(8); so does filterd, for pflogsumm."""
TRUNCATE = 200


def _subject(verdict: Verdict, subject: object) -> object:
    """What the verdict is about: what a ContentVerdict names, else the event's subject."""
    return getattr(verdict, "about", None) or subject


def _content_edits(verdict: Verdict, subject: object, at_hand: int | None) -> list[_edits.AnyEdit]:
    """PREPEND, REPLACE, IGNORE and STRIP on the header or body line at hand (number `at_hand`), as edits."""
    action, text = verdict.action, verdict.text
    if action not in _LINE_ACTIONS or (subject is None and action is not Action.PREPEND):
        return []
    if isinstance(subject, _edits.InBody):
        return subject.line_edits(action.value, encode(text), at_hand)
    if isinstance(subject, BodyLine):
        if action is Action.PREPEND:
            return [_edits.LineEdit(subject.index, before=encode(text))]
        return [_edits.LineEdit(subject.index, encode(text) if action is Action.REPLACE else None)]
    if action is Action.PREPEND:
        return [_edits.Before(subject if isinstance(subject, Header) else None, text)]
    if not isinstance(subject, Header):
        return []
    return [_edits.Replace(subject, text) if action is Action.REPLACE else _edits.Remove(subject)]


def _content_what(subject: object) -> str:
    """`header NAME: value` or `body LINE`, cut at 200 bytes and masked as Postfix's printable(3) does."""
    if isinstance(subject, BodyLine):
        return "body " + _printable(subject.text[:TRUNCATE])
    kind = "body" if isinstance(subject, _edits.InBody) and not subject.header else "header"
    raw = encode(subject.text) if isinstance(subject, (Header, _edits.InBody)) else b""
    return f"{kind} {_printable(raw[:TRUNCATE])}"


def _printable(text: str | bytes) -> str:
    """Non-printable ASCII and bytes that are not UTF-8 as '?', as Postfix's logs show them."""
    raw = encode(text) if isinstance(text, str) else text
    out, i = bytearray(), 0
    while i < len(raw):
        ch, i = raw[i], i + 1
        if 0x20 <= ch < 0x7F:
            out.append(ch)
        elif 194 <= ch <= 254 and i < len(raw) and 0x80 <= raw[i] < 0xC0:
            start = i - 1
            while i < len(raw) and 0x80 <= raw[i] < 0xC0:
                i += 1
            out += raw[start:i]
        else:
            out.append(0x3F)
    return out.decode("utf-8", "replace")


_LINE_ACTIONS = frozenset({Action.PREPEND, Action.REPLACE, Action.IGNORE, Action.STRIP})
_CONTENT_WORDS = {
    Action.REJECT: "reject", Action.DEFER: "reject", Action.DISCARD: "discard", Action.HOLD: "hold",
    Action.WARN: "warning", Action.INFO: "info", Action.REDIRECT: "redirect", Action.FILTER: "filter",
    Action.BCC: "bcc", Action.PASS: "pass", Action.STRIP: "strip", Action.PREPEND: "prepend",
    Action.REPLACE: "replace",
}
_LOG_WORDS = {
    Action.REJECT: "reject", Action.DEFER: "reject", Action.DISCARD: "discard", Action.HOLD: "hold",
    Action.WARN: "warning", Action.INFO: "info", Action.REDIRECT: "redirect", Action.FILTER: "filter",
    Action.BCC: "bcc", Action.PASS: "pass", Action.STRIP: "strip",
}
_GENERIC = {Action.HOLD: "held", Action.PASS: "pass", Action.STRIP: "strip"}
"""What a line says for an action without text; WARN and INFO say nothing, as smtpd logs an access table's WARN
without text (`warn: RCPT from C: ; from=<S> ...`)."""
_EVERY_RECIPIENT = frozenset({"data", "end_of_message"})
"""The events whose refusal is every recipient's alike: with several, smtpd's line names none (smtpd_check_data and
smtpd_check_eod: `logging only one of them would be misleading`)."""
_EVENT_NAMES = {
    "connect": "CONNECT", "helo": "EHLO", "mail_from": "MAIL", "rcpt": "RCPT", "vrfy": "VRFY", "etrn": "ETRN", "data": "DATA",
    "end_of_headers": "END-OF-HEADERS", "end_of_message": "END-OF-MESSAGE", "queue": "QUEUE",
    "disconnect": "DISCONNECT",
}
