"""Verdicts as milter decisions, in Postfix's SMFIR_REPLYCODE syntax."""

import pytest

from filterd.milter.protocol import responses as r
from filterd.milter.server.replies import decision, smtp_reply
from filterd.verdict import Verdict


@pytest.mark.parametrize("verdict, response", [
    (Verdict.reject("5.7.1 Subject refused"), r.ReplyCode("550 5.7.1 Subject refused")),
    (Verdict.reject("554 5.7.0 go away"), r.ReplyCode("554 5.7.0 go away")),
    (Verdict.reject(), r.ReplyCode("550 5.7.1 Access denied")),
    (Verdict.reject("451 4.7.1 later"), r.ReplyCode("451 4.7.1 later")),
    (Verdict.defer("4.3.0 busy"), r.ReplyCode("450 4.3.0 busy")),
    (Verdict.defer(), r.Tempfail()),
    (Verdict.discard("bye"), r.Discard()),
    (Verdict.ok(), r.Continue()),
    (Verdict(), r.Continue()),
    (Verdict.hold("later"), r.Continue()),
])
def test_decisions(verdict, response):
    assert decision(verdict) == response


def test_percent_signs_are_doubled_and_lines_joined_with_crlf():
    assert smtp_reply(550, "5.7.1", "100% spam") == "550 5.7.1 100%% spam"
    assert smtp_reply(550, "5.7.1", "one\ntwo") == "550-5.7.1 one\r\n550 5.7.1 two"
    assert smtp_reply(451, "4.7.1", "") == "451 4.7.1"
