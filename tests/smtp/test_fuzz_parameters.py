"""MAIL/RCPT DSN parameters and XFORWARD attributes fuzzed (hypothesis): any argument is split, checked and
applied without an exception; what passes the checks is well formed for the queue and the next hop."""

from __future__ import annotations

import re

from hypothesis import given, strategies as st

from filterd.model import Session
from filterd.smtp.dsn import is_xtext, refusal
from filterd.smtp.server import take_dsn
from filterd.smtp.xforward import apply_xforward, xforward_refusal
from tests.fixtures.fuzzing import budget

WORDS = st.lists(st.sampled_from(
    ["RET=", "ENVID=", "NOTIFY=", "ORCPT=", "ret=", "notify=", "FULL", "HDRS", "NEVER", "SUCCESS", ",", "FAILURE",
     "rfc822;", ";", "+", "+2B", "+4", "a", "=", " ", "  ", "SIZE=10", "\udcff", "\u00b2", "é", "\t", "<a@b>"]),
    max_size=12).map("".join)
XFORWARD = st.lists(st.sampled_from(
    ["NAME=", "ADDR=", "PORT=", "PROTO=", "HELO=", "SOURCE=", "IDENT=", "FOO=", "port=", "x", "1", "99999", "+",
     "+41", "[UNAVAILABLE]", " ", "=", "\u00b2", "\udcff", "1.2.3.4", "LOCAL"]), max_size=10).map("".join)


@given(WORDS, st.sampled_from(["MAIL", "RCPT"]))
@budget(400)
def test_any_dsn_parameters_are_kept_or_refused(arg, command):
    kept, options = take_dsn(arg, command)
    assert all(re.fullmatch(r"(RET|ENVID|NOTIFY|ORCPT)=.*", option, re.S) for option in options)
    if refusal(options) is None:
        values = dict(option.split("=", 1) for option in options)
        assert len(values) == len(options)
        assert all(is_xtext(values[key].partition(";")[2] if key == "ORCPT" else values[key])
                   for key in values if key in ("ENVID", "ORCPT"))
        assert values.get("RET", "FULL").upper() in ("FULL", "HDRS")


@given(XFORWARD)
@budget(400)
def test_any_xforward_is_applied_or_refused(arg):
    session = Session()
    if xforward_refusal(arg) is None:
        apply_xforward(session, arg)
        assert isinstance(session.client_port, int) and 0 <= session.client_port <= 99999
