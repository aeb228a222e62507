"""XFORWARD to the next hop: a queued message's original client, in xtext, split at 512 bytes, only what the
server offers; local submissions as SOURCE=LOCAL."""

from __future__ import annotations

from filterd.qmgr.xforward import XForward, commands, xtext
from filterd.queue.queuefile import QueueEnvelope

ALL = {"NAME", "ADDR", "PROTO", "HELO", "IDENT", "SOURCE", "PORT"}


def envelope(**fields) -> QueueEnvelope:
    return QueueEnvelope(**{"queue_id": "4Q1", "sender": "a@example.org", "recipients": [], "arrival": 0.0,
                            "client": "mail.example.com[192.0.2.1]", "helo": "mail.example.com",
                            "protocol": "ESMTP", **fields})


def test_the_original_client_goes_as_postfix_sends_it():
    assert commands(envelope(), ALL) == [
        "XFORWARD NAME=mail.example.com ADDR=192.0.2.1 PROTO=ESMTP HELO=mail.example.com IDENT=4Q1 SOURCE=REMOTE"]


def test_only_offered_attributes_and_unknown_names_as_unavailable():
    assert commands(envelope(client="unknown[192.0.2.1]", helo=""), {"NAME", "ADDR", "HELO"}) == [
        "XFORWARD NAME=[UNAVAILABLE] ADDR=192.0.2.1 HELO=[UNAVAILABLE]"]


def test_local_submission_is_source_local():
    assert commands(envelope(client=""), {"ADDR", "SOURCE"}) == ["XFORWARD ADDR=[UNAVAILABLE] SOURCE=LOCAL"]


def test_values_are_xtext_and_long_ones_split_over_commands():
    assert xtext("a b+c=") == "a+20b+2Bc+3D"
    lines = commands(envelope(helo="h" * 300, client=f"{'n' * 250}[192.0.2.1]"), ALL)
    assert len(lines) == 2 and all(len(line) <= 510 for line in lines)


def test_sent_to_filter_transports_or_everywhere_when_asked():
    assert XForward(False, frozenset({"scan"})).wanted("scan")
    assert not XForward(False, frozenset({"scan"})).wanted("smtp")
    assert XForward(True).wanted("smtp")
