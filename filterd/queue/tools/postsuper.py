"""`filterd postsuper`: delete (-d), hold (-h), release (-H) and requeue (-r) messages, as Postfix's postsuper.

Every operation is one rename or unlink, so it is safe while filterd runs. A requeued message goes to
maildrop with its time stamps reset, and the pickup takes it back, as in Postfix. Per-message lines
("QUEUEID: removed") are logged for operations by queue id, totals always, on stderr and in the maillog.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import IO, Callable

from filterd.queue.spool import QUEUES, Spool
from filterd.queue.tools.console import Console, ToolError, open_maillog
from filterd.queue.tools.listing import queue_id_ok

NAME = "postsuper"
HELP = "delete, hold, release or requeue queued mail, as Postfix's postsuper"
MESSAGE_QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")


def _delete(spool: Spool, queue: str, queue_id: str) -> None:
    spool.path(queue, queue_id).unlink()


def _hold(spool: Spool, queue: str, queue_id: str) -> None:
    spool.move(queue_id, queue, "hold")


def _release(spool: Spool, queue: str, queue_id: str) -> None:
    spool.move(queue_id, queue, "deferred")


def _requeue(spool: Spool, queue: str, queue_id: str) -> None:
    spool.move(queue_id, queue, "maildrop", when=time.time())


@dataclass(frozen=True)
class Operation:
    """One of postsuper's operations: what it logs, where it looks by default, where it never takes mail from."""

    option: str
    done: str
    summary: str
    defaults: tuple[str, ...]
    never: tuple[str, ...]
    apply: Callable[[Spool, str, str], None]

    def queues(self, named: list[str]) -> list[str]:
        return [q for q in named or self.defaults if q not in self.never]


OPERATIONS = {
    "delete": Operation("-d", "removed", "Deleted", MESSAGE_QUEUES, (), _delete),
    "requeue": Operation("-r", "requeued", "Requeued", MESSAGE_QUEUES, ("maildrop",), _requeue),
    "hold": Operation("-h", "placed on hold", "Placed on hold", ("incoming", "active", "deferred"),
                      ("maildrop", "hold"), _hold),
    "release": Operation("-H", "released from hold", "Released from hold", ("hold",),
                         tuple(q for q in QUEUES if q != "hold"), _release),
}
SUMMARY_ORDER = ("requeue", "delete", "hold", "release")


def add_arguments(parser) -> None:
    for name, op in OPERATIONS.items():
        parser.add_argument(op.option, dest=name, action="append", metavar="QUEUE_ID",
                            help=f"{name} one message (ALL: every message, -: ids from standard input)")
    parser.add_argument("queues", nargs="*", metavar="QUEUE", help="the queues to act on")


def apply_one(op: Operation, spool: Spool, queues: list[str], queue_id: str, console: Console) -> int:
    """Act on one message by id; 1 if it was found."""
    if not queue_id_ok(queue_id):
        console.warning(f"invalid mail queue id: {queue_id}")
        return 0
    for queue in op.queues(queues):
        try:
            op.apply(spool, queue, queue_id)
        except FileNotFoundError:
            continue
        console.info(f"{queue_id}: {op.done}")
        return 1
    return 0


def apply_all(op: Operation, spool: Spool, queues: list[str]) -> int:
    """Act on every message of the queues; returns how many."""
    count = 0
    for queue in op.queues(queues):
        for queue_id in spool.ids(queue):
            try:
                op.apply(spool, queue, queue_id)
                count += 1
            except FileNotFoundError:
                pass
    return count


def run(name: str, ids: list[str], spool: Spool, queues: list[str], console: Console, stdin: IO[str]) -> int:
    """One operation with all the ids given to its option; returns how many messages it moved or removed."""
    op = OPERATIONS[name]
    if "ALL" in ids:
        if len(ids) > 1:
            console.warning(f'option "{op.option} ALL" will ignore other command line queue IDs')
        return apply_all(op, spool, queues)
    count = 0
    for queue_id in ids:
        names = [line.rstrip("\n") for line in stdin] if queue_id == "-" else [queue_id]
        count += sum(apply_one(op, spool, queues, name, console) for name in names)
    return count


def main(args, load) -> int:
    config = load().config
    open_maillog(config)
    console, spool = Console(NAME), Spool(config.get("queue_directory"))
    requested = {name: getattr(args, name) for name in OPERATIONS if getattr(args, name)}
    try:
        if not requested:
            raise ToolError("usage: postsuper [-c config] [-d|-h|-H|-r queue_id|ALL|-] [queue...]")
        unknown = [q for q in args.queues if q not in QUEUES]
        if unknown:
            raise ToolError(f"unknown queue: {unknown[0]} (expected one of {', '.join(QUEUES)})")
    except ToolError as error:
        return console.fatal(error)
    counts = {name: run(name, ids, spool, args.queues, console, sys.stdin) for name, ids in requested.items()}
    for name in SUMMARY_ORDER:
        if name in counts:
            console.info(f"{OPERATIONS[name].summary}: {counts[name]} message{'' if counts[name] == 1 else 's'}")
    return 0
