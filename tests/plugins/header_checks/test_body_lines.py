"""BodyLines: the body lines the core passes, rebuilt into the records Postfix's cleanup sees."""

from __future__ import annotations

from filterd.plugins.header_checks.body_lines import BodyLines


class Spool:
    """A message as BodyLines sees it: how big its body is so far."""

    body_size = 0


def test_lines_passed_one_at_a_time_are_told_from_pieces_by_the_growth_of_the_body():
    lines, spool, records = BodyLines(limit=50), Spool(), []
    for text, ending in ((b"a" * 80, b""), (b"b" * 40 + b"\r", b""), (b"", b"\n"), (b"next", b"\r\n"),
                        (b"c" * 60, b"\r\n")):
        spool.body_size += len(text) + len(ending)
        records += [(len(text), index, more) for text, index, more in lines.records(text, spool)]
    assert lines.count == 3
    assert records == [(50, 0, True), (50, 0, True), (20, 0, False), (4, 1, False), (50, 2, True), (10, 2, False)]


def test_lines_passed_in_a_batch_are_told_from_pieces_by_their_length():
    lines, spool = BodyLines(), Spool()
    batch = [b"a" * 2048, b"a" * 100, b"short", b"", b"b" * 2048, b""]
    spool.body_size = sum(len(line) for line in batch) + 2 * 4
    records = [(len(text), index) for line in batch for text, index, _ in lines.records(line, spool)]
    assert lines.count == 4
    assert records == [(2048, 0), (100, 0), (5, 1), (0, 2), (2048, 3), (0, 3)]
