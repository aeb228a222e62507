"""`filterd qshape`: the domain and age distribution of queued mail, the table of Postfix's qshape.

Columns are age buckets in minutes (T, 5, 10, 20, ... by default), rows are recipient domains (sender
domains with -s), TOTAL first, sorted by total and then by length, MAILER-DAEMON for the null sender;
-p adds parent domains (.example.com) that have at least -m subdomains. Queues default to incoming and
active, as Postfix's; a queue name is taken relative to queue_directory unless it is absolute.
"""

from __future__ import annotations

import math
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from filterd.queue.tools.console import Console, open_maillog
from filterd.queue.tools.listing import scan

NAME = "qshape"
HELP = "print the queue's domain and age distribution, as Postfix's qshape"
DEFAULT_QUEUES = ("incoming", "active")
WIDTH = 80
MIN_DOMAIN_WIDTH = 18


def add_arguments(parser) -> None:
    parser.add_argument("-s", action="store_true", help="sender domains instead of recipient domains")
    parser.add_argument("-p", action="store_true", help="add parent domains")
    parser.add_argument("-m", type=int, default=5, metavar="MIN_SUBDOMAINS", help="parent domains shown (-p)")
    parser.add_argument("-b", type=int, default=10, metavar="BUCKET_COUNT", help="number of age buckets")
    parser.add_argument("-t", type=int, default=5, metavar="BUCKET_TIME", help="minutes of the first bucket")
    parser.add_argument("-l", action="store_true", help="linear bucket ages instead of doubling ones")
    parser.add_argument("-w", type=int, default=WIDTH, metavar="TERMINAL_WIDTH", help="output width")
    parser.add_argument("queues", nargs="*", metavar="QUEUE")


@dataclass
class Shape:
    """How ages are bucketed and how the table is laid out."""

    buckets: int = 10
    minutes: int = 5
    linear: bool = False
    parents: bool = False
    min_subdomains: int = 5
    width: int = WIDTH

    def bucket(self, age: float) -> int:
        """1 for the first bucket ... `buckets` for the last, which has no upper bound."""
        ratio = age / (60 * self.minutes)
        if ratio < 1:
            return 1
        number = int(ratio + 1) if self.linear else 2 + int(math.log(ratio) / math.log(2))
        return min(number, self.buckets)

    def headings(self) -> list[str]:
        """T, then each bucket's upper bound in minutes, the last one with a '+'."""
        bounds, limit = [], self.minutes
        for _ in range(self.buckets - 1):
            bounds.append(str(limit))
            limit += self.minutes if self.linear else limit
        return ["T", *bounds, (bounds[-1] if bounds else "0") + "+"]


def domain_of(address: str) -> str:
    """The domain qshape files an address under: lower case, MAILER-DAEMON for the null address."""
    domain = address.lower() or "MAILER-DAEMON"
    domain = domain.rpartition("@")[2].replace("..", ".")
    return re.sub(r"\.?(.+?)\.?$", r"\1", domain, count=1)


def parent_domains(domain: str) -> list[str]:
    """.b.example.com and .example.com for a.b.example.com; never a top-level domain."""
    labels = domain.lstrip(".").split(".")
    return ["." + ".".join(labels[i:]) for i in range(1, len(labels) - 1)]


@dataclass
class Tally:
    """Counts per row: index 0 is the total, 1.. the buckets; subdomain counts for parent rows."""

    shape: Shape
    rows: dict[str, list[int]] = field(default_factory=dict)
    subdomains: dict[str, int] = field(default_factory=dict)

    def _count(self, name: str, bucket: int) -> bool:
        row = self.rows.setdefault(name, [0] * (self.shape.buckets + 1))
        row[0] += 1
        row[bucket] += 1
        return row[0] == 1

    def add(self, address: str, bucket: int) -> None:
        self._count("TOTAL", bucket)
        domain = domain_of(address)
        names = [domain, *parent_domains(domain)] if self.shape.parents else [domain]
        child_is_new = False
        for name in names:
            if child_is_new:
                self.subdomains[name] = self.subdomains.get(name, 0) + 1
            child_is_new = self._count(name, bucket)


def tally(messages: Iterable[tuple[float, list[str]]], shape: Shape, now: float) -> Tally:
    """Count (arrival time, addresses) pairs into age buckets; times are whole seconds, as in Postfix."""
    counts = Tally(shape)
    counts.rows["TOTAL"] = [0] * (shape.buckets + 1)
    for arrival, addresses in messages:
        bucket = shape.bucket(int(now) - int(arrival))
        for address in addresses:
            counts.add(address, bucket)
    return counts


def _fit(name: str, width: int) -> str:
    if len(name) <= width:
        return name.rjust(width)
    return ".+" + name[len(name) - width + 2:] if name.startswith(".") else "+" + name[len(name) - width + 1:]


def render(counts: Tally) -> str:
    """The table, right-aligned to the width, one row per domain with its counts."""
    shape, total = counts.shape, counts.rows["TOTAL"]
    heads = shape.headings()
    widths = [max(len(str(n)), len(h)) for n, h in zip(total, heads)]
    widths = [w + 1 if w > 2 else 3 for w in widths]
    domain_width = max(shape.width - sum(widths), MIN_DOMAIN_WIDTH)

    def line(name: str, cells: list) -> str:
        return _fit(name, domain_width) + "".join(str(c).rjust(w) for c, w in zip(cells, widths)) + "\n"

    order = sorted(counts.rows, key=lambda d: (-counts.rows[d][0], len(d), d))
    shown = [d for d in order if not d.startswith(".") or counts.subdomains.get(d, 0) >= shape.min_subdomains]
    return line("", heads) + "".join(line(d, counts.rows[d]) for d in shown)


def queue_contents(root: Path, queues: list[str], senders: bool, console: Console):
    """(arrival, addresses) per message of the queues: the sender, or the recipients still to deliver."""
    for queue in queues:
        directory = Path(queue) if queue.startswith("/") else root / queue
        for message in scan(directory, queue, console.warning):
            env = message.envelope
            yield env.arrival, [env.sender] if senders else [r.address for r in env.pending()]


def main(args, load) -> int:
    config = load().config
    open_maillog(config)
    shape = Shape(args.b if args.b > 0 else 10, args.t if args.t > 0 else 5, args.l, args.p,
                  args.m if args.m > 0 else 5, max(args.w, WIDTH))
    contents = queue_contents(Path(config.get("queue_directory")), args.queues or list(DEFAULT_QUEUES), args.s,
                              Console(NAME))
    sys.stdout.write(render(tally(contents, shape, time.time())))
    return 0
