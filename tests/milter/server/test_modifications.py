"""Edits and routing as milter requests, checked against a model of Postfix's cleanup(8): requests applied
the way Postfix applies them must give the headers filterd.edits gives. Values only, no sockets."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from filterd import edits as fe
from filterd.milter.protocol import responses as r
from filterd.milter.protocol.headers import to_header
from filterd.milter.server.modifications import (blind_requests, body_requests, conclude, header_requests,
                                                 recipient_requests)
from filterd.content import Header
from filterd.model import Envelope, Message, Session
from filterd.transaction import Transaction
from filterd.verdict import (AddHeader, ChangeHeader, DeleteHeader, InsertHeader, ReplaceBody, Verdict)

MTA_RECEIVED = Header(b"Received: by mta.example\r\n")


def postfix_applies(headers: list[Header], requests, leading_space: bool = True) -> list[Header]:
    """cleanup_milter.c's semantics: INSHEADER index k inserts before the (k+1)-th header of the queue file,
    own Received: included; CHGHEADER counts a name's occurrences skipping the first header; absent -> append."""
    queue = [MTA_RECEIVED, *headers]
    for request in requests:
        if isinstance(request, r.AddHeader):
            queue.append(to_header(request.name, request.value, leading_space))
        elif isinstance(request, r.InsertHeader):
            queue.insert(min(request.index, len(queue)), to_header(request.name, request.value, leading_space))
        elif isinstance(request, r.ChangeHeader):
            change(queue, request, leading_space)
    return queue


def change(queue: list[Header], request: r.ChangeHeader, leading_space: bool) -> None:
    matches = [i for i, h in enumerate(queue) if i > 0 and h.name.lower() == request.name.lower()]
    index = max(request.index, 1)
    if index > len(matches):
        if request.value:
            queue.append(to_header(request.name, request.value, leading_space))
        return
    if request.value:
        queue[matches[index - 1]] = to_header(request.name, request.value, leading_space)
    else:
        del queue[matches[index - 1]]


def raws(headers):
    return [h.raw for h in headers]


def check(headers: list[Header], edits: list, leading_space: bool = True) -> list:
    requests = header_requests(headers, edits, leading_space)
    expected = fe.apply(Message(list(headers)), edits).headers
    result = postfix_applies(headers, requests, leading_space)
    assert raws([h for h in result if h is not MTA_RECEIVED]) == raws(expected)
    return requests


def sample():
    return [Header.make("From", "a@example.org"), Header.make("Subject", "one"), Header.make("X-A", "1"),
            Header.make("Subject", "two"), Header.make("X-B", "2")]


def test_add_insert_change_delete():
    headers = sample()
    requests = check(headers, [AddHeader("X-New", "v"), InsertHeader("X-Top", "t", 0), InsertHeader("X-Mid", "m", 2),
                               ChangeHeader("Subject", "changed", 2), DeleteHeader("X-A")])
    assert requests == [r.ChangeHeader(2, "Subject", " changed"), r.ChangeHeader(1, "X-A", ""),
                        r.InsertHeader(0, "X-Top", " t"), r.InsertHeader(3, "X-Mid", " m"),
                        r.AddHeader("X-New", " v")]


def test_a_top_insert_goes_above_the_mta_received_header_and_others_below():
    headers = sample()
    requests = header_requests(headers, [InsertHeader("X-Top", "t", 0), InsertHeader("X-One", "1", 1)], True)
    queue = postfix_applies(headers, requests)
    assert [h.name for h in queue[:4]] == ["X-Top", "Received", "X-One", "From"]


def test_prepend_replace_and_ignore_on_received_headers():
    headers = sample()
    check(headers, [fe.Before(headers[1], "X-Before: yes"), fe.Replace(headers[2], "X-Renamed: 3"),
                    fe.Replace(headers[3], "Subject: same name"), fe.Remove(headers[4]), fe.Before(None, "X-Top: 1")])


def test_a_change_of_the_same_name_stays_in_place():
    headers = sample()
    assert header_requests(headers, [fe.Replace(headers[3], "Subject: new")], False) == [
        r.ChangeHeader(2, "Subject", "new")]


def test_edits_of_a_header_that_is_gone_do_nothing_more():
    headers = sample()
    check(headers, [fe.Remove(headers[2]), fe.Replace(headers[2], "X-Z: 1"), fe.Remove(headers[2]),
                    fe.Before(headers[2], "X-Lost: 1")])


def test_changing_an_absent_header_adds_it_and_deleting_one_does_nothing():
    assert check(sample(), [ChangeHeader("X-None", "v"), DeleteHeader("X-Gone")]) == [r.AddHeader("X-None", " v")]


def test_edits_of_headers_filterd_added_itself():
    headers = sample()
    check(headers, [InsertHeader("Subject", "top", 0), ChangeHeader("Subject", "x", 1), DeleteHeader("Subject", 1),
                    AddHeader("X-A", "new"), ChangeHeader("X-A", "y", 2), DeleteHeader("X-A", 1)])


NAMES = st.sampled_from(["Subject", "X-A", "x-a", "Received", "X-New"])
VALUES = st.sampled_from(["v", "", "folded\r\n\tvalue", "w"])


@st.composite
def edit_lists(draw):
    headers = [Header.make(draw(NAMES), draw(st.sampled_from(["v", "w"]))) for _ in range(draw(st.integers(0, 5)))]
    targets = st.sampled_from(headers) if headers else st.none()
    edit = st.one_of(
        st.builds(AddHeader, NAMES, VALUES.filter(bool)),
        st.builds(InsertHeader, NAMES, VALUES.filter(bool), st.integers(0, 7)),
        st.builds(ChangeHeader, NAMES, VALUES, st.integers(1, 3)),
        st.builds(DeleteHeader, NAMES, st.integers(1, 3)),
        st.builds(fe.Before, targets, st.sampled_from(["X-P: 1", "Subject: p"])),
        st.builds(fe.Replace, targets, st.sampled_from(["X-R: 1", "Subject: r", "X-A: r"])).filter(
            lambda e: e.target is not None),
        st.builds(fe.Remove, targets).filter(lambda e: e.target is not None),
    )
    return headers, draw(st.lists(edit, max_size=8))


@settings(max_examples=200, deadline=None)
@given(edit_lists(), st.booleans())
def test_any_edits_give_postfix_the_headers_filterd_means(case, leading_space):
    headers, edits = case
    check(headers, edits, leading_space)


CHANGED = st.sampled_from(["Subject", "X-A", "x-a", "X-New"])


@st.composite
def blind_edit_lists(draw):
    headers = [Header.make(draw(NAMES), draw(st.sampled_from(["v", "w"]))) for _ in range(draw(st.integers(0, 5)))]
    edit = st.one_of(
        st.builds(AddHeader, NAMES, VALUES.filter(bool)),
        st.builds(InsertHeader, NAMES, VALUES.filter(bool), st.integers(1, 7)),
        st.builds(InsertHeader, st.just("X-Top"), VALUES.filter(bool), st.just(0)),
        st.builds(ChangeHeader, CHANGED, VALUES, st.integers(1, 3)),
        st.builds(DeleteHeader, CHANGED, st.integers(1, 3)),
    )
    return headers, draw(st.lists(edit, max_size=8))


@settings(max_examples=200, deadline=None)
@given(blind_edit_lists(), st.booleans())
def test_edits_without_knowing_the_headers_give_postfix_the_same(case, leading_space):
    """Known limits, from Postfix's CHGHEADER skipping the topmost header: a header filterd itself put on the
    very top cannot be changed later, and once one is there a change of Received: reaches Postfix's own;
    so here no change or delete names the top-inserted header or Received."""
    headers, edits = case
    expected = fe.apply(Message(list(headers)), edits).headers
    result = postfix_applies(headers, list(blind_requests(edits, leading_space)), leading_space)
    assert raws([h for h in result if h is not MTA_RECEIVED]) == raws(expected)


def test_blind_requests_are_plain():
    assert list(blind_requests([InsertHeader("X-Top", "t", 0), InsertHeader("X-2", "2", 2), DeleteHeader("X"),
                                ChangeHeader("S", "new", 2)], False)) == [
        r.InsertHeader(0, "X-Top", "t"), r.InsertHeader(3, "X-2", "2"), r.ChangeHeader(1, "X", ""),
        r.ChangeHeader(2, "S", "new")]


def txn(**routing) -> Transaction:
    transaction = Transaction(Session(), Envelope(sender="a@example.org", recipients=["b@example.net", "c@example.net"]))
    for name, value in routing.items():
        setattr(transaction, name, value)
    return transaction


def test_redirect_deletes_each_recipient_as_given_and_bcc_adds():
    given = {"b@example.net": "<B@example.net>"}
    assert recipient_requests(txn(redirect="x@example.net", bcc=["y@example.net", "x@example.net"]), given) == [
        r.DeleteRecipient("<B@example.net>"), r.DeleteRecipient("<c@example.net>"), r.AddRecipient("<x@example.net>"),
        r.AddRecipient("<y@example.net>")]
    assert recipient_requests(txn(bcc=["b@example.net", "z@example.net"]), {}) == [r.AddRecipient("<z@example.net>")]


def test_a_body_replacement_is_streamed_in_chunks_of_at_most_65535():
    big = b"x" * 70000 + b"\r\n"
    chunks = list(body_requests(Message(), [ReplaceBody(big)]))
    assert [len(c.data) for c in chunks] == [65535, len(big) - 65535]
    assert list(body_requests(Message(), [AddHeader("X", "y")])) == []


def test_body_line_edits_become_a_replacement_of_the_whole_body():
    message = Message([], io.BytesIO(b"keep\r\nSECRET\r\ngone\r\n"))
    [chunk] = body_requests(message, [fe.LineEdit(1, b"[redacted]"), fe.LineEdit(2, None)])
    assert chunk == r.ReplaceBody(b"keep\r\n[redacted]\r\n")


def test_the_end_of_message_answer_puts_the_decision_last():
    transaction = txn(hold="review", bcc=["y@example.net"], edits=[AddHeader("X-A", "1"), ReplaceBody(b"new\r\n")])
    message = Message([Header.make("Subject", "s")], io.BytesIO(b"old\r\n"))
    assert list(conclude(transaction, message, {}, True)) == [
        r.AddHeader("X-A", " 1"), r.AddRecipient("<y@example.net>"), r.ReplaceBody(b"new\r\n"),
        r.Quarantine("review"), r.Continue()]
    assert message._body.closed


def test_a_final_verdict_at_end_of_message_is_the_only_answer():
    transaction = txn(edits=[AddHeader("X-A", "1")])
    transaction.final = Verdict.reject("5.7.1 no")
    assert list(conclude(transaction, Message(), {}, True)) == [r.ReplyCode("550 5.7.1 no")]
