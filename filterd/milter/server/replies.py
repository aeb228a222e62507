"""Verdicts as milter decisions: REJECT and DEFER as SMFIR_REPLYCODE with the verdict's own code and text,
a DEFER with nothing to say as SMFIR_TEMPFAIL, DISCARD as SMFIR_DISCARD."""

from __future__ import annotations

from filterd.milter.protocol.packets import Packet
from filterd.milter.protocol.responses import Continue, Discard, ReplyCode, Tempfail
from filterd.verdict import Action, Verdict


def smtp_reply(code: int, dsn: str, text: str) -> str:
    """Postfix's SMFIR_REPLYCODE text: "550 5.7.1 text", CRLF between lines, '%' doubled as Sendmail wants."""
    lines = text.replace("%", "%%").splitlines() or [""]
    last = len(lines) - 1
    return "\r\n".join(f"{code}{' ' if i == last else '-'}{dsn} {line}".rstrip() for i, line in enumerate(lines))


def decision(verdict: Verdict) -> Packet:
    """The milter answer to a verdict: a final one refuses or discards, anything else continues."""
    if verdict.action is Action.DISCARD:
        return Discard()
    if not verdict.final:
        return Continue()
    if verdict.action is Action.DEFER and not (verdict.text or verdict.code or verdict.dsn):
        return Tempfail()
    return ReplyCode(smtp_reply(*verdict.reply()))
