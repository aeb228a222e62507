"""`filterd postqueue`: the mailq listing (-p), flush (-f) and flush one message (-i ID), as Postfix's postqueue.

filterd's queue ids are long ones, so the listing has the layout Postfix uses with enable_long_queue_ids.
-f makes every deferred message due now (a deferred file's mtime is its next attempt time) and sends
SIGUSR1 to the queue manager named in pid/qmgr.pid, which then takes the whole deferred queue; -i moves
one deferred message back to incoming, which the queue manager takes at once.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import IO, Iterable, Iterator

from filterd.queue.queuefile import CorruptQueueFile, QueueFile
from filterd.queue.spool import Spool
from filterd.queue.tools.console import EX_UNAVAILABLE, Console, ToolError, open_maillog
from filterd.queue.tools.listing import SHOWQ_ORDER, QueuedMessage, asctime, queue_id_ok, scan, shown_address

NAME = "postqueue"
HELP = "list the queue (-p) or flush it (-f, -i ID), as Postfix's postqueue"
HEADINGS = ("----Queue ID-----", "--Size--", "---Arrival Time----", "--Sender/Recipient------")
MARKS = {"active": "*", "hold": "!"}
REASON_END = 76


def add_arguments(parser) -> None:
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("-p", action="store_true", help="list the queue, as mailq")
    what.add_argument("-f", action="store_true", help="flush: make every deferred message due now")
    what.add_argument("-i", metavar="QUEUE_ID", help="make one deferred message due now")


def _columns(queue_id: str, size: str, arrival: str, address: str) -> str:
    return f"{queue_id:<17} {size:>8} {arrival:<19} {address}"


def message_lines(message: QueuedMessage) -> list[str]:
    """One message: queue id with its queue's mark, size, arrival, sender; deferral reasons, recipients."""
    env = message.envelope
    lines = [_columns(env.queue_id + MARKS.get(message.queue, ""), str(env.size), asctime(env.arrival)[:19],
                      shown_address(env.sender))]
    pending = env.pending()
    reason = ""
    deferred = [r for r in message.others if r.text and not r.done] + [r for r in pending if r.text]
    for rcpt in deferred + [r for r in pending if not r.text]:
        if rcpt.text != reason:
            reason = rcpt.text
            shown = reason or "reason unavailable"
            lines.append(" " * max(REASON_END - len(shown), 0) + f"({shown})")
        lines.append(_columns("", "", "", shown_address(rcpt.address)))
    return lines


def write_listing(messages: Iterable[QueuedMessage], out: IO[str]) -> None:
    """The mailq listing, written as the queue is read."""
    count = kbytes = 0
    for message in messages:
        out.write("\n" if count else _columns(*HEADINGS) + "\n")
        out.write("".join(line + "\n" for line in message_lines(message)))
        count, kbytes = count + 1, kbytes + message.envelope.size
    if not count:
        out.write("Mail queue is empty\n")
    else:
        out.write(f"\n-- {kbytes // 1024} Kbytes in {count} Request{'' if count == 1 else 's'}.\n")


def queued(spool: Spool, console: Console) -> Iterator[QueuedMessage]:
    """Every message, queue by queue in showq's order."""
    for queue in SHOWQ_ORDER:
        yield from scan(spool.root / queue, queue, console.warning)


def flush(spool: Spool) -> int:
    """Make every deferred message due now and ask a running queue manager to take them; returns how many."""
    now, count = time.time(), 0
    for qid in spool.ids("deferred"):
        try:
            os.utime(spool.path("deferred", qid), (now, now))
            count += 1
        except FileNotFoundError:
            pass
    poke_qmgr(spool)
    return count


def flush_one(spool: Spool, queue_id: str) -> bool:
    """One deferred message back to incoming, where the queue manager takes it at once."""
    try:
        spool.move(queue_id, "deferred", "incoming")
    except FileNotFoundError:
        return False
    return True


def flush_site(spool: Spool, site: str) -> int:
    """Each deferred message with a recipient still to deliver at `site` (its domain) back to incoming, where the
    queue manager takes it at once, as Postfix's flush server does for ETRN and postqueue -s; how many."""
    count, site = 0, site.lower()
    for queue_id in spool.ids("deferred"):
        try:
            pending = QueueFile.read(str(spool.path("deferred", queue_id))).envelope.pending()
        except CorruptQueueFile:
            continue
        if any(r.address.rpartition("@")[2].lower() == site for r in pending) and flush_one(spool, queue_id):
            count += 1
    return count


def poke_qmgr(spool: Spool) -> bool:
    """SIGUSR1 to the pid in pid/qmgr.pid, once /proc shows that it is filterd's (a stale pid is left alone)."""
    pid = spool.read_pid("qmgr")
    try:
        if pid is None or b"filterd" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return False
        os.kill(pid, signal.SIGUSR1)
    except OSError:
        return False
    return True


def main(args, load) -> int:
    config = load().config
    open_maillog(config)
    console, spool = Console(NAME), Spool(config.get("queue_directory"))
    try:
        if args.i is not None and not queue_id_ok(args.i):
            raise ToolError(f'Cannot flush queue ID - invalid name: "{args.i}"', EX_UNAVAILABLE)
        if args.p:
            write_listing(queued(spool, console), sys.stdout)
        elif args.i is not None:
            flush_one(spool, args.i)
        else:
            flush(spool)
    except ToolError as error:
        return console.fatal(error)
    return 0
