"""`filterd pipe -f SENDER -- RECIPIENT...`: filterd as Postfix's pipe(8) simple filter (FILTER_README).

The message comes on stdin, the plugins judge it at every stage (before and after the queue), and an accepted
message is reinjected through `sendmail -G -i`; the exit status is what FILTER_README's script answers: 0 done,
75 (EX_TEMPFAIL) try again later, 69 (EX_UNAVAILABLE) bounce, the reason on stdout for pipe(8) to report.
"""

from __future__ import annotations

import asyncio
import sys
from typing import IO

from filterd import maillog
from filterd.chain import Chain
from filterd.config import Config
from filterd.pipe.judging import Judged, judge
from filterd.pipe.reinjection import parse_reinjection, reinject, smtp_reinject
from filterd.verdict import Action

EX_OK, EX_UNAVAILABLE, EX_TEMPFAIL = 0, 69, 75


def run(chain: Chain, config: Config, sender: str, recipients: list[str], stdin: IO[bytes] | None = None,
        stdout: IO[str] | None = None) -> int:
    """Judge the message on stdin and reinject it; the exit status for pipe(8)."""
    stdin, stdout = stdin or sys.stdin.buffer, stdout or sys.stdout
    try:
        judged = asyncio.run(judge(chain, sender, recipients, stdin, config.size("filterd_spool_memory_limit")))
    except Exception as exc:
        maillog.error("pipe", "filter failed: %s", exc, exc_info=True)
        stdout.write(f"4.3.0 filter failed: {exc}\n")
        return EX_TEMPFAIL
    try:
        return _answer(judged, config, stdout)
    finally:
        judged.message.close()


def _answer(judged: Judged, config, stdout: IO[str]) -> int:
    verdict = judged.verdict
    if verdict is not None and verdict.action is Action.DISCARD:
        return EX_OK
    if verdict is not None:
        code, dsn, text = verdict.reply()
        stdout.write(f"{dsn} {text}\n")
        return EX_UNAVAILABLE if code >= 500 else EX_TEMPFAIL
    nexthop = parse_reinjection(config.get("filterd_pipe_reinjection"))
    if nexthop is not None:
        code, text = asyncio.run(smtp_reinject(*nexthop, config.get("myhostname"), judged.sender, judged.recipients,
                                               judged.message))
        if code != 250:
            stdout.write(f"{text}\n")
            return EX_UNAVAILABLE if code >= 500 else EX_TEMPFAIL
        return EX_OK
    status, output = reinject(config.get("sendmail_path"), judged.sender, judged.recipients, judged.message)
    if status != 0:
        stdout.write(f"4.3.0 reinjection failed: {output or f'sendmail exit status {status}'}\n")
        return EX_TEMPFAIL
    return EX_OK
