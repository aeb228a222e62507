"""qshape: buckets, domains, parent domains and the table, checked against tables Postfix's qshape printed."""

from __future__ import annotations

import time

import pytest

from filterd.queue.queuefile import Recipient
from filterd.queue.tools.qshape import Shape, domain_of, parent_domains, render, tally
from tests.queue.tools.conftest import queue_message

NOW = 1_795_692_778
# The deferred queue of one Postfix run: (age in seconds, recipients).
POSTFIX_QUEUE = [
    (100, ["bob@example.net", "carol@example.net", "dave@other.example.com"]),
    (100, ["r@example.net"]),
    (10, ["bob@a.example.net", "carol@b.example.net", "x@c.example.net", "y@d.example.net", "z@e.example.net"]),
    (10, ["bob@example.net"]),
]


def table(shape: Shape, queue=POSTFIX_QUEUE) -> str:
    return render(tally(((NOW - age, rcpts) for age, rcpts in queue), shape, NOW))


def test_four_one_minute_buckets_as_postfix_printed_them():
    """`qshape -b 4 -t 1 deferred` on that queue; Postfix orders equal rows at random, filterd by name."""
    assert table(Shape(buckets=4, minutes=1)) == """\
                                                                   T  1  2  4 4+
                                                            TOTAL 10  6  4  0  0
                                                      example.net  4  1  3  0  0
                                                    a.example.net  1  1  0  0  0
                                                    b.example.net  1  1  0  0  0
                                                    c.example.net  1  1  0  0  0
                                                    d.example.net  1  1  0  0  0
                                                    e.example.net  1  1  0  0  0
                                                other.example.com  1  0  1  0  0
"""


def test_parent_domains_as_postfix_printed_them():
    """`qshape -p -m 2 deferred`: .example.net counts its five subdomains; .example.com has only one."""
    assert table(Shape(parents=True, min_subdomains=2)) == """\
                                         T  5 10 20 40 80 160 320 640 1280 1280+
                                  TOTAL 10 10  0  0  0  0   0   0   0    0     0
                           .example.net  5  5  0  0  0  0   0   0   0    0     0
                            example.net  4  4  0  0  0  0   0   0   0    0     0
                          a.example.net  1  1  0  0  0  0   0   0   0    0     0
                          b.example.net  1  1  0  0  0  0   0   0   0    0     0
                          c.example.net  1  1  0  0  0  0   0   0   0    0     0
                          d.example.net  1  1  0  0  0  0   0   0   0    0     0
                          e.example.net  1  1  0  0  0  0   0   0   0    0     0
                      other.example.com  1  1  0  0  0  0   0   0   0    0     0
"""


def test_an_empty_queue_still_has_its_total_row():
    assert table(Shape(), []).splitlines()[1] == " " * 34 + "TOTAL  0  0  0  0  0  0   0   0   0    0     0"


@pytest.mark.parametrize("age, bucket", [(0, 1), (299, 1), (300, 2), (599, 2), (600, 3), (1199, 3), (1200, 4),
                                         (2400, 5), (38400, 9), (76799, 9), (76800, 10), (10**7, 10), (-5, 1)])
def test_buckets_double(age, bucket):
    assert Shape().bucket(age) == bucket


def test_linear_buckets_and_their_headings():
    shape = Shape(buckets=5, minutes=10, linear=True)
    assert [shape.bucket(a) for a in (0, 599, 600, 1200, 1800, 99999)] == [1, 1, 2, 3, 4, 5]
    assert shape.headings() == ["T", "10", "20", "30", "40", "40+"]


def test_headings():
    assert Shape().headings() == ["T", "5", "10", "20", "40", "80", "160", "320", "640", "1280", "1280+"]
    assert Shape(buckets=1).headings() == ["T", "0+"]


@pytest.mark.parametrize("address, domain", [
    ("Bob@Example.COM", "example.com"), ("", "MAILER-DAEMON"), ("root", "root"), ('"a@b"@c.example', "c.example"),
    ("x@.example.com.", "example.com"), ("x@a..b", "a.b"), ("x@", ""),
])
def test_domains(address, domain):
    assert domain_of(address) == domain


def test_parents_stop_before_the_top_level():
    assert parent_domains("a.b.example.com") == [".b.example.com", ".example.com"]
    assert parent_domains("example.com") == [] and parent_domains("MAILER-DAEMON") == []


def test_a_wide_total_widens_its_column_and_long_domains_are_cut_from_the_left():
    name = "a-very-long-host-name.in-a-very-long-subdomain.example.org"
    queue = [(0, [f"u{i}@example.net" for i in range(1234)]), (0, [f"x@{name}"])]
    lines = table(Shape(), queue).splitlines()
    assert lines[0] == " " * 35 + "    T    5 10 20 40 80 160 320 640 1280 1280+"
    assert lines[1] == " " * 30 + "TOTAL 1235 1235  0  0  0  0   0   0   0    0     0"
    assert lines[3] == "+" + name[-34:] + "    1    1  0  0  0  0   0   0   0    0     0"


def test_a_wider_terminal_shows_whole_names():
    queue = [(0, ["x@a-very-long-host-name.in-a-very-long-subdomain.example.org"])]
    lines = table(Shape(width=120), queue).splitlines()
    assert lines[2].lstrip().startswith("a-very-long-host-name.in-a-very-long-subdomain.example.org ")
    assert len(lines[2]) == 120


def test_the_command_counts_incoming_and_active_by_default(spool, tools):
    now = time.time()
    queue_message(spool, "incoming", "A1", "s@example.org", ["a@one.example", "b@one.example"], arrival=now)
    queue_message(spool, "active", "A2", "s@example.org", ["c@two.example", Recipient("d@two.example", status="sent")],
                  arrival=now - 700)
    queue_message(spool, "deferred", "A3", "", ["e@three.example"], arrival=now)
    lines = tools("qshape").out.splitlines()
    assert [line.split()[:4] for line in lines[1:]] == [["TOTAL", "3", "2", "0"], ["one.example", "2", "2", "0"],
                                                        ["two.example", "1", "0", "0"]]
    assert lines[3].split()[4] == "1"


def test_the_command_shows_senders_of_named_and_absolute_queues(spool, tools):
    queue_message(spool, "deferred", "A3", "", ["e@three.example", "f@three.example"], arrival=time.time())
    queue_message(spool, "hold", "A4", "Boss@Example.ORG", ["g@three.example"], arrival=time.time())
    lines = tools("qshape", "-s", "deferred", str(spool.root / "hold")).out.splitlines()
    assert [line.split()[:2] for line in lines[1:]] == [["TOTAL", "2"], ["example.org", "1"], ["MAILER-DAEMON", "1"]]
