"""bench/connections.py's report, from figures given by hand."""

from __future__ import annotations

import argparse

from bench import connections
from bench.connections import Figures


def test_the_report_gives_memory_after_over_start_and_the_peak_ratio(monkeypatch, tmp_path):
    found = {"filterd": Figures(144 * 1024, 194 * 1024, 150 * 1024, 108 * 1024),
             "postfix": Figures(62 * 1024, 1940 * 1024, 1000 * 1024, 900 * 1024)}
    monkeypatch.setattr(connections, "bench_filterd", lambda workdir, sessions, size: found["filterd"])
    monkeypatch.setattr(connections, "bench_postfix", lambda workdir, sessions, size: found["postfix"])
    lines: list[str] = []
    connections.run(tmp_path, argparse.Namespace(sessions=10, size=1000, only=["filterd", "postfix"]), lines.append)
    assert lines == [
        "filterd: start 144 MB, peak 194 MB, after 150 MB",
        "filterd pss: peak 108 MB",
        "memory after: 6 MB over start",
        "postfix: start 62 MB, peak 1940 MB, after 1000 MB",
        "postfix pss: peak 900 MB",
        "postfix memory after: 938 MB over start",
        "ratio: 0.10",
    ]


def test_a_message_is_about_the_size_asked_for():
    assert abs(len(connections.message(250 * 1024)) - 250 * 1024) < 80
