"""One message through the plugins and back into the mail system: the exit status FILTER_README's script
answers (0 done, 75 try again later, 69 bounce) and the text for pipe(8) to report. `filterd pipe` runs it in
its own process; the pipe service runs it for each message a client hands over."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import IO

from filterd import maillog
from filterd.chain import Chain
from filterd.config import Config
from filterd.pipe import EX_OK, EX_TEMPFAIL, EX_UNAVAILABLE
from filterd.pipe.judging import Judged, judge
from filterd.pipe.reinjection import SmtpReinjection, parse_reinjection, reinject
from filterd.verdict import Action

STATUS_WORDS = {EX_OK: "sent", EX_TEMPFAIL: "deferred", EX_UNAVAILABLE: "bounced"}
"""The exit status in the words of Postfix's delivery log lines."""


@dataclass
class Reinjection:
    """Where an accepted message goes: an SMTP reinjection smtpd, or else sendmail_path."""

    smtp: SmtpReinjection | None
    sendmail: str

    @classmethod
    def from_config(cls, config: Config, keep: bool = False) -> Reinjection:
        """filterd_pipe_reinjection; keep=True keeps SMTP connections open between messages."""
        nexthop = parse_reinjection(config.get("filterd_pipe_reinjection"))
        smtp = SmtpReinjection(*nexthop, config.get("myhostname"), keep=keep) if nexthop else None
        return cls(smtp, config.get("sendmail_path"))


async def filter_message(chain: Chain, reinjection: Reinjection, sender: str, recipients: list[str],
                         stream: IO[bytes], memory: int) -> tuple[int, str]:
    """Judge the message read from stream and reinject it; (exit status, text for pipe(8))."""
    try:
        judged = await judge(chain, sender, recipients, stream, memory)
    except Exception as exc:
        maillog.error("pipe", "filter failed: %s", exc, exc_info=True)
        return EX_TEMPFAIL, f"4.3.0 filter failed: {exc}"
    try:
        status, text = await _answer(judged, reinjection)
    finally:
        judged.message.close()
    maillog.info("pipe", "%s: from=<%s>, nrcpt=%d, status=%s%s", judged.queue_id, sender, len(recipients),
                 STATUS_WORDS[status], f" ({text})" if text else "")
    return status, text


async def _answer(judged: Judged, reinjection: Reinjection) -> tuple[int, str]:
    verdict = judged.verdict
    if verdict is not None and verdict.action is Action.DISCARD:
        return EX_OK, ""
    if verdict is not None:
        code, dsn, text = verdict.reply()
        return (EX_UNAVAILABLE if code >= 500 else EX_TEMPFAIL), f"{dsn} {text}"
    if reinjection.smtp is not None:
        code, text = await reinjection.smtp.send(judged.sender, judged.recipients, judged.message)
        if code != 250:
            return (EX_UNAVAILABLE if code >= 500 else EX_TEMPFAIL), text
        return EX_OK, ""
    status, output = await asyncio.to_thread(reinject, reinjection.sendmail, judged.sender, judged.recipients,
                                             judged.message)
    if status != 0:
        return EX_TEMPFAIL, f"4.3.0 reinjection failed: {output or f'sendmail exit status {status}'}"
    return EX_OK, ""
