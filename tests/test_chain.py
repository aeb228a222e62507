"""The chain runner: filterd_plugins order, awaiting, final verdicts, folding, timeouts and crashes, declared
changes, content events run at once (tests/test_registry.py: how plugins are found and checked)."""

from __future__ import annotations

import asyncio
import io
import logging
import time

import pytest

from filterd import maillog
from filterd.chain import Chain
from filterd.content import ContentParser
from filterd.lifecycle import run_events_now
from filterd.model import Envelope, Message, Session
from filterd.registry import PluginError, Plugins, hookimpl
from filterd.transaction import Transaction
from filterd.verdict import Action, AddHeader, Verdict

MESSAGE = b"From: a@example.org\r\nSubject: hello\r\nTo: b@example.net\r\n\r\nbody\r\n"


class Recorder:
    """A plugin that records its calls in a shared list and answers with a fixed verdict per hook."""

    def __init__(self, name: str, calls: list[str], answers: dict[str, object] | None = None):
        self.name = name
        self.calls = calls
        self.answers = answers or {}

    def _answer(self, hook: str):
        self.calls.append(f"{self.name}.{hook}")
        return self.answers.get(hook)

    @hookimpl
    def connect(self, session):
        return self._answer("connect")

    @hookimpl
    def rcpt(self, recipient):
        return self._answer("rcpt")

    @hookimpl
    def header(self, header):
        return self._answer("header")

    @hookimpl
    def body(self, line):
        return self._answer("body")

    @hookimpl
    def end_of_message(self, message):
        return self._answer("end_of_message")


def make_chain(*plugins: tuple[str, object], timeout: float = 5.0, error_action: str = "tempfail") -> Chain:
    named = dict(plugins)
    return Chain(Plugins.load(list(named), named), timeout, error_action)


def make_txn(data: bytes = MESSAGE) -> Transaction:
    return Transaction(Session(), Envelope(queue_id="4ABCD1234"), Message.from_bytes(data), trace=[])


def run(chain: Chain, hook: str, txn: Transaction, **kwargs) -> Verdict:
    return asyncio.run(chain.run(hook, txn, **kwargs))


def recorders(calls: list[str], **answers: dict[str, object]) -> list[tuple[str, Recorder]]:
    return [(name, Recorder(name, calls, answers.get(name))) for name in ("A", "B", "C")]


# --- order ---------------------------------------------------------------------------------------

def test_chain_runs_in_filterd_plugins_order_not_pluggy_order():
    calls: list[str] = []
    chain = make_chain(*recorders(calls))
    run(chain, "connect", make_txn())
    assert calls == ["A.connect", "B.connect", "C.connect"]


def test_chain_order_follows_the_list_not_registration_names():
    calls: list[str] = []
    a, b, c = recorders(calls)
    chain = make_chain(c, a, b)
    run(chain, "connect", make_txn())
    assert calls == ["C.connect", "A.connect", "B.connect"]


def test_impls_lists_only_plugins_that_implement_the_hook():
    class OnlyHelo:
        @hookimpl
        def helo(self, hostname):
            return None

    calls: list[str] = []
    plugins = Plugins.load(["A", "H", "B"], {"A": Recorder("A", calls), "H": OnlyHelo(), "B": Recorder("B", calls)})
    assert [impl.plugin for impl in plugins.impls("connect")] == ["A", "B"]
    assert [impl.plugin for impl in plugins.impls("helo")] == ["H"]
    assert not plugins.has("queue")


def test_same_plugin_listed_twice_is_an_error():
    with pytest.raises(PluginError, match="listed twice"):
        Plugins.load(["A", "A"], {"A": Recorder("A", [])})


# --- sync and coroutine hooks --------------------------------------------------------------------

def test_coroutine_hook_is_awaited():
    class Async:
        @hookimpl
        async def connect(self, session):
            await asyncio.sleep(0)
            return "REJECT 5.7.1 async says no"

    verdict = run(make_chain(("async", Async())), "connect", make_txn())
    assert verdict.action is Action.REJECT
    assert verdict.reply() == (550, "5.7.1", "async says no")


def test_async_hook_returning_none_does_not_stop_the_chain():
    calls: list[str] = []

    class Async:
        @hookimpl
        async def connect(self):
            calls.append("async")

    chain = make_chain(("async", Async()), ("B", Recorder("B", calls)))
    assert run(chain, "connect", make_txn()).action is Action.DUNNO
    assert calls == ["async", "B.connect"]


def test_sync_hook_result_is_used():
    chain = make_chain(("A", Recorder("A", [], {"connect": Verdict.defer("busy")})))
    assert run(chain, "connect", make_txn()).reply() == (450, "4.7.1", "busy")


def test_run_now_answers_at_once_when_every_plugin_is_a_plain_function():
    calls: list[str] = []
    chain = make_chain(*recorders(calls, B={"connect": "REJECT no"}))
    verdict = chain.run_now("connect", make_txn())
    assert isinstance(verdict, Verdict) and verdict.action is Action.REJECT
    assert calls == ["A.connect", "B.connect"]


def test_run_now_hands_the_rest_of_the_walk_to_a_coroutine_at_the_first_awaitable():
    calls: list[str] = []

    class Async:
        @hookimpl
        async def connect(self):
            await asyncio.sleep(0)
            calls.append("async")

    chain = make_chain(("A", Recorder("A", calls)), ("async", Async()),
                       ("B", Recorder("B", calls, {"connect": "DISCARD"})))
    txn = make_txn()
    pending = chain.run_now("connect", txn)
    assert calls == ["A.connect"] and asyncio.iscoroutine(pending)
    assert asyncio.run(pending).action is Action.DISCARD
    assert calls == ["A.connect", "async", "B.connect"]
    assert [call.plugin for call in txn.trace] == ["A", "async", "B"]


def test_plain_function_returning_an_awaitable_is_awaited_within_the_timeout():
    async def late():
        await asyncio.sleep(1)
        return "OK"

    class Wrapped:
        @hookimpl
        def end_of_message(self):
            return late()

    verdict = run(make_chain(("wrapped", Wrapped()), timeout=0.05), "end_of_message", make_txn())
    assert verdict.reply() == (451, "4.7.1", "Service unavailable - try again later")


def test_hook_declaring_a_subset_of_arguments_gets_only_those():
    seen = {}

    class Picky:
        @hookimpl
        def rcpt(self, recipient):
            seen["rcpt"] = recipient

        @hookimpl
        def helo(self, hostname, session):
            seen["helo"] = (hostname, session.client_address)

        @hookimpl
        def end_of_message(self):
            seen["eom"] = True

    chain = make_chain(("picky", Picky()))
    txn = make_txn()
    run(chain, "rcpt", txn, recipient="x@example.net")
    run(chain, "helo", txn, hostname="mx.example.org")
    run(chain, "end_of_message", txn)
    assert seen == {"rcpt": "x@example.net", "helo": ("mx.example.org", "127.0.0.1"), "eom": True}


def test_hook_gets_the_transaction_objects():
    seen = []

    class Looker:
        @hookimpl
        def end_of_message(self, session, envelope, message):
            seen.append((session, envelope, message))

    txn = make_txn()
    run(make_chain(("looker", Looker())), "end_of_message", txn)
    assert seen == [(txn.session, txn.envelope, txn.message)]


# --- final verdicts, OK, PASS --------------------------------------------------------------------

@pytest.mark.parametrize("answer, action", [
    ("REJECT", Action.REJECT), ("DEFER", Action.DEFER), ("DISCARD", Action.DISCARD),
])
def test_first_final_verdict_stops_the_chain(answer, action):
    calls: list[str] = []
    chain = make_chain(*recorders(calls, B={"connect": answer}))
    txn = make_txn()
    verdict = run(chain, "connect", txn)
    assert verdict.action is action
    assert txn.final is verdict
    assert calls == ["A.connect", "B.connect"]


def test_ok_stops_only_this_event():
    calls: list[str] = []
    chain = make_chain(*recorders(calls, A={"rcpt": "OK"}))
    txn = make_txn()
    assert run(chain, "rcpt", txn, recipient="x@example.net").action is Action.OK
    run(chain, "end_of_message", txn)
    assert calls == ["A.rcpt", "A.end_of_message", "B.end_of_message", "C.end_of_message"]
    assert txn.final is None


def test_pass_turns_off_content_hooks_for_the_rest_of_the_message():
    calls: list[str] = []
    chain = make_chain(*recorders(calls, A={"header": "PASS"}))
    txn = make_txn()
    first, second = txn.message.headers[:2]
    run(chain, "header", txn, subject=first, header=first)
    run(chain, "header", txn, subject=second, header=second)
    run(chain, "body", txn, subject=b"body", line=b"body")
    run(chain, "end_of_message", txn)
    assert calls == ["A.header"]
    assert txn.passed


def test_pass_leaves_envelope_hooks_running():
    calls: list[str] = []
    chain = make_chain(*recorders(calls, A={"header": "PASS"}))
    txn = make_txn()
    run(chain, "header", txn, subject=txn.message.headers[0], header=txn.message.headers[0])
    run(chain, "rcpt", txn, recipient="x@example.net")
    assert calls == ["A.header", "A.rcpt", "B.rcpt", "C.rcpt"]


# --- non-final verdicts accumulate ---------------------------------------------------------------

def test_routing_verdicts_accumulate_and_all_plugins_run():
    calls: list[str] = []
    chain = make_chain(*recorders(
        calls,
        A={"end_of_message": "HOLD suspicious"},
        B={"end_of_message": "REDIRECT abuse@example.org"},
        C={"end_of_message": "FILTER smtp:[127.0.0.1]:10025"},
    ))
    txn = make_txn()
    assert run(chain, "end_of_message", txn).action is Action.DUNNO
    assert (txn.hold, txn.redirect, txn.filter) == ("suspicious", "abuse@example.org", "smtp:[127.0.0.1]:10025")
    assert calls == ["A.end_of_message", "B.end_of_message", "C.end_of_message"]


def test_bcc_accumulates_without_duplicates():
    chain = make_chain(*recorders(
        [], A={"end_of_message": "BCC one@example.org"}, B={"end_of_message": "BCC two@example.org"},
        C={"end_of_message": "BCC one@example.org"},
    ))
    txn = make_txn()
    run(chain, "end_of_message", txn)
    assert txn.bcc == ["one@example.org", "two@example.org"]


def test_edits_from_several_plugins_are_applied_in_chain_order():
    chain = make_chain(*recorders(
        [],
        A={"end_of_message": Verdict.add_header("X-A", "1")},
        B={"end_of_message": Verdict.hold("h").with_edits(AddHeader("X-B", "2"))},
        C={"end_of_message": Verdict.delete_header("Subject")},
    ))
    txn = make_txn()
    run(chain, "end_of_message", txn)
    out = txn.apply_edits()
    assert [h.name for h in out.headers] == ["From", "To", "X-A", "X-B"]
    assert txn.hold == "h"


def test_edits_before_a_final_verdict_stay_recorded_but_final_stops():
    chain = make_chain(*recorders(
        [], A={"end_of_message": Verdict.add_header("X-A", "1")}, B={"end_of_message": "REJECT"},
        C={"end_of_message": Verdict.add_header("X-C", "3")},
    ))
    txn = make_txn()
    run(chain, "end_of_message", txn)
    assert txn.final.action is Action.REJECT
    assert [e.name for e in txn.edits] == ["X-A"]


def _run_headers(chain: Chain, txn: Transaction) -> None:
    for header in list(txn.message.headers):
        run(chain, "header", txn, subject=header, header=header)


class SubjectRule:
    """Answers `answer` for the Subject header only, like a header_checks line."""

    def __init__(self, answer: str):
        self.answer = answer

    @hookimpl
    def header(self, header):
        return self.answer if header.name == "Subject" else None


def test_prepend_goes_before_the_current_header():
    txn = make_txn()
    _run_headers(make_chain(("rule", SubjectRule("PREPEND X-Tag: yes"))), txn)
    assert [h.text for h in txn.apply_edits().headers] == [
        "From: a@example.org", "X-Tag: yes", "Subject: hello", "To: b@example.net"]


def test_replace_replaces_the_current_header():
    txn = make_txn()
    _run_headers(make_chain(("rule", SubjectRule("REPLACE Subject: [SPAM] hello"))), txn)
    assert [h.text for h in txn.apply_edits().headers] == [
        "From: a@example.org", "Subject: [SPAM] hello", "To: b@example.net"]


@pytest.mark.parametrize("answer", ["IGNORE", "STRIP"])
def test_ignore_and_strip_delete_the_current_header(answer):
    txn = make_txn()
    _run_headers(make_chain(("rule", SubjectRule(answer))), txn)
    assert [h.name for h in txn.apply_edits().headers] == ["From", "To"]


def test_prepend_in_body_goes_to_the_top():
    class BodyRule:
        @hookimpl
        def body(self, line):
            return "PREPEND X-Body: seen" if line == b"body" else None

    txn = make_txn()
    run(make_chain(("rule", BodyRule())), "body", txn, subject=b"body", line=b"body")
    assert txn.apply_edits().headers[0].text == "X-Body: seen"


def test_trace_records_every_call_in_order():
    chain = make_chain(*recorders([], B={"connect": "HOLD x"}))
    txn = make_txn()
    run(chain, "connect", txn)
    assert [(c.hook, c.plugin, str(c.verdict)) for c in txn.trace] == [
        ("connect", "A", "DUNNO"), ("connect", "B", "HOLD x"), ("connect", "C", "DUNNO")]


# --- timeouts and crashes ------------------------------------------------------------------------

class Sleeper:
    @hookimpl
    async def end_of_message(self):
        await asyncio.sleep(5)
        return "OK"


class Crasher:
    @hookimpl
    def end_of_message(self):
        raise RuntimeError("kaboom")


class BadAnswer:
    @hookimpl
    def end_of_message(self):
        return 42


@pytest.mark.parametrize("error_action, action, reply", [
    ("tempfail", Action.DEFER, (451, "4.7.1", "Service unavailable - try again later")),
    ("reject", Action.REJECT, (550, "5.7.1", "Command rejected")),
])
def test_timeout_becomes_the_final_error_action(error_action, action, reply):
    calls: list[str] = []
    chain = make_chain(("slow", Sleeper()), ("B", Recorder("B", calls)), timeout=0.05, error_action=error_action)
    started = time.monotonic()
    verdict = run(chain, "end_of_message", make_txn())
    assert time.monotonic() - started < 2
    assert verdict.action is action
    assert verdict.reply() == reply
    assert calls == []


def test_timeout_with_accept_continues_the_chain():
    calls: list[str] = []
    chain = make_chain(("slow", Sleeper()), ("B", Recorder("B", calls)), timeout=0.05, error_action="accept")
    txn = make_txn()
    assert run(chain, "end_of_message", txn).action is Action.DUNNO
    assert calls == ["B.end_of_message"]
    assert txn.final is None


def test_timeout_with_quarantine_holds_the_message_and_continues():
    calls: list[str] = []
    chain = make_chain(("slow", Sleeper()), ("B", Recorder("B", calls)), timeout=0.05, error_action="quarantine")
    txn = make_txn()
    run(chain, "end_of_message", txn)
    assert txn.hold == "plugin error"
    assert txn.final is None
    assert calls == ["B.end_of_message"]


def test_slow_sync_hook_counts_as_a_timeout():
    class SlowSync:
        @hookimpl
        def end_of_message(self):
            time.sleep(0.1)
            return "OK"

    verdict = run(make_chain(("slowsync", SlowSync()), timeout=0.01), "end_of_message", make_txn())
    assert verdict.reply() == (451, "4.7.1", "Service unavailable - try again later")


@pytest.mark.parametrize("error_action, expected", [
    ("tempfail", "DEFER 451 4.7.1 Service unavailable - try again later"),
    ("reject", "REJECT 550 5.7.1 Command rejected"),
    ("accept", "DUNNO"),
    ("quarantine", "DUNNO"),
])
def test_crash_becomes_the_error_action(error_action, expected):
    txn = make_txn()
    verdict = run(make_chain(("crash", Crasher()), error_action=error_action), "end_of_message", txn)
    assert str(verdict) == expected
    assert txn.hold == ("plugin error" if error_action == "quarantine" else None)


def test_bad_return_value_is_a_plugin_error():
    txn = make_txn()
    verdict = run(make_chain(("bad", BadAnswer())), "end_of_message", txn)
    assert verdict.action is Action.DEFER
    assert "TypeError" in txn.trace[0].error


def test_crash_is_logged_with_plugin_name_and_traceback(filterd_log):
    run(make_chain(("crash", Crasher())), "end_of_message", make_txn())
    [record] = [r for r in filterd_log.records if r.name == "filterd" and r.levelno == logging.WARNING]
    text = record.getMessage()
    assert "4ABCD1234: plugin crash: end_of_message hook failed: RuntimeError: kaboom" in text
    assert "Traceback (most recent call last)" in text
    assert 'raise RuntimeError("kaboom")' in text


def test_timeout_is_logged_with_plugin_name(filterd_log):
    run(make_chain(("slow", Sleeper()), timeout=0.05), "end_of_message", make_txn())
    messages = [r.getMessage() for r in filterd_log.records if r.levelno == logging.WARNING]
    assert messages == ["4ABCD1234: plugin slow: end_of_message hook: timeout after 0.05s"]


def test_crash_is_recorded_in_the_trace():
    txn = make_txn()
    run(make_chain(("crash", Crasher())), "end_of_message", txn)
    [call] = txn.trace
    assert (call.plugin, call.error, call.verdict.action) == ("crash", "RuntimeError: kaboom", Action.DEFER)


# --- declared changes ----------------------------------------------------------------------------


class Declares:
    """Declares `declared` with the changes hook and answers end_of_message with `answer`."""

    def __init__(self, declared: object, answer: object = None):
        self.declared, self.answer = declared, answer

    @hookimpl
    def changes(self):
        return self.declared

    @hookimpl
    def end_of_message(self):
        return self.answer


def declared_chain(*plugins: tuple[str, object], error_action: str = "tempfail") -> Chain:
    named = dict(plugins)
    loaded = Plugins.load(list(named), named)
    loaded.declare()
    return Chain(loaded, 5.0, error_action)


@pytest.mark.parametrize("answer", [
    Verdict.add_header("X-Tag", "yes"), "REJECT 5.7.1 no", Verdict.defer(), Verdict.discard(), "WARN look",
    "INFO seen", "OK", "DUNNO", None, Verdict.pass_(),
])
def test_a_declared_change_and_any_reply_pass(answer):
    txn = make_txn()
    run(declared_chain(("tag", Declares({"add_header"}, answer))), "end_of_message", txn)
    assert txn.trace[0].error == ""


@pytest.mark.parametrize("answer, undeclared", [
    ("REDIRECT x@example.net", "redirect"), ("HOLD review", "hold"), ("PREPEND X-A: b", "prepend"),
    (Verdict.change_header("Subject", "x"), "change_header"), (Verdict.replace_body(b"new\r\n"), "replace_body"),
    (Verdict.reject("5.7.1 no").with_edits(AddHeader("X-Other", "1"), *Verdict.delete_recipient("a@b").edits),
     "delete_recipient"),
])
def test_an_undeclared_change_is_a_plugin_error(answer, undeclared, filterd_log):
    txn = make_txn()
    verdict = run(declared_chain(("tag", Declares({"add_header"}, answer))), "end_of_message", txn)
    assert verdict.action is Action.DEFER and txn.final is verdict and not txn.edits and txn.redirect is None
    assert txn.trace[0].error == f"undeclared change: {undeclared} (the changes hook declares add_header)"
    [message] = [r.getMessage() for r in filterd_log.records if r.levelno == logging.WARNING]
    assert message == f"4ABCD1234: plugin tag: end_of_message hook: {txn.trace[0].error}"


def test_an_undeclared_change_gets_the_error_action_in_force():
    txn = make_txn()
    run(declared_chain(("tag", Declares(set(), "HOLD x")), error_action="accept"), "end_of_message", txn)
    assert txn.final is None and txn.hold is None


def test_a_plugin_without_a_declaration_or_declaring_none_may_make_any_change():
    class Free:
        @hookimpl
        def end_of_message(self):
            return "REDIRECT x@example.net"
    for plugin in (Free(), Declares(None, "REDIRECT x@example.net")):
        txn = make_txn()
        run(declared_chain(("free", plugin)), "end_of_message", txn)
        assert txn.redirect == "x@example.net" and txn.trace[0].error == ""


def test_a_declaration_is_read_case_blind_and_replies_in_it_are_allowed():
    chain = declared_chain(("tag", Declares(["ADD_HEADER", "Reject", Action.HOLD, "pass"])))
    [impl] = chain.plugins.impls("end_of_message")
    assert impl.changes == {"add_header", "hold"}


@pytest.mark.parametrize("declared, error", [
    ({"add_heder"}, "the changes hook declares an unknown change 'add_heder' (did you mean add_header?)"),
    ("add_header", "the changes hook must return a set of names such as {\"add_header\"}, not 'add_header'"),
    (3, "the changes hook must return a set of names such as {\"add_header\"}, not 3"),
])
def test_a_misspelt_or_malformed_declaration_fails_at_start_up_naming_the_plugin(declared, error):
    with pytest.raises(PluginError) as caught:
        declared_chain(("tag", Declares(declared)))
    assert str(caught.value) == f"plugin tag: {error}"


def test_logger_does_not_propagate_after_setup():
    """Why the filterd_log fixture exists: maillog.setup() stops propagation to the root logger."""
    logger = logging.getLogger("filterd")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    try:
        maillog.setup("", "filterd", "localhost", foreground=True)
        assert logger.propagate is False
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        for handler in saved[0]:
            logger.addHandler(handler)
        logger.propagate, logger.level = saved[1], saved[2]


# --- content events without a coroutine ----------------------------------------------------------

def content_events() -> list:
    parser = ContentParser(io.BytesIO(), want_body_events=True)
    events = []
    for line in io.BytesIO(MESSAGE):
        events += parser.feed_line(line)
    return events + parser.finish_events()


def test_run_events_now_runs_every_event_at_once_with_plain_plugins():
    calls: list[str] = []
    txn = make_txn()
    assert run_events_now(make_chain(("A", Recorder("A", calls))), txn, content_events()) is None
    assert calls == ["A.header"] * 3 + ["A.body"]


def test_run_events_now_stops_at_a_final_verdict():
    calls: list[str] = []
    txn = make_txn()
    chain = make_chain(("A", Recorder("A", calls, {"header": "REJECT no"})))
    assert run_events_now(chain, txn, content_events()) is None
    assert calls == ["A.header"] and txn.final.action is Action.REJECT


def test_run_events_now_leaves_the_events_after_an_awaitable_to_a_coroutine():
    calls: list[str] = []

    class AsyncHeader:
        @hookimpl
        async def header(self, header):
            await asyncio.sleep(0)
            calls.append(f"async {header.name}")

    chain = make_chain(("async", AsyncHeader()), ("A", Recorder("A", calls)))
    pending = run_events_now(chain, make_txn(), content_events())
    assert calls == [] and asyncio.iscoroutine(pending)
    asyncio.run(pending)
    assert calls == ["async From", "A.header", "async Subject", "A.header", "async To", "A.header", "A.body"]
