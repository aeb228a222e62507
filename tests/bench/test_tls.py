"""bench/tls's arithmetic: medians, the ratios, and the TLS cost a session (a message is one session in, one out)."""

from __future__ import annotations

from bench.proxy import Run
from bench.tls import report_runs


def test_the_report_gives_ratios_and_the_cost_a_session():
    runs = {("postfix", True): [Run(30, 6.0), Run(40, 7.0), Run(10, 9.0)],
            ("postfix", False): [Run(60, 3.0)],
            ("filterd", True): [Run(24, 9.0)],
            ("filterd", False): [Run(30, 5.0)]}
    lines: list[str] = []
    report_runs(runs, lines.append)
    assert lines == ["postfix tls: 30 msg/s, plain: 60 msg/s", "filterd tls: 24 msg/s, plain: 30 msg/s",
                     "tls ratio: 0.80", "plain ratio: 0.50",
                     "postfix cpu: 7.00 ms/msg with tls, 3.00 without", "postfix tls cost: 2.00 ms/session",
                     "filterd cpu: 9.00 ms/msg with tls, 5.00 without", "filterd tls cost: 2.00 ms/session"]
