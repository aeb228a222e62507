"""The one score: symbols from several plugins summed once the chain is done, the thresholds' actions (header,
hold, reject; a reject held after the queue), and observe mode (reject_warning, counted, not enforced)."""

from __future__ import annotations

import asyncio

import pytest

from filterd import ConfigError, Symbol, Verdict, hookimpl
from filterd.chain import Chain
from filterd.config import Config
from filterd.parameters import CORE_PARAMETERS, validate_values
from filterd.simulate import simulate
from filterd.score import ADD_HEADER, HOLD, NO_ACTION, REJECT, Scored, Scoring, score
from filterd.testing import load_plugins, run_plugin, run_queue

MESSAGE = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n"
OFF = {"filterd_score_add_header": "", "filterd_score_reject": ""}


class Spf:
    @hookimpl
    def mail_from(self, sender):
        return Verdict.symbol("SPF_FAIL", 2.5, "not permitted")


class Content:
    """Adds a symbol at end of message, with its weight taken from the Subject."""

    @hookimpl
    def end_of_message(self, message):
        return Verdict.symbol("CONTENT", float(message.get("Subject") or 0))

    @hookimpl
    def queue(self, message):
        return Verdict.symbol("CONTENT", float(message.get("Subject") or 0))


class Refuser:
    @hookimpl
    def end_of_message(self):
        return Verdict.reject("5.7.1 no, says the new filter").with_symbol("NEW_FILTER", 20)


def message(weight: float) -> bytes:
    return MESSAGE.replace(b"hi", str(weight).encode())


def test_the_thresholds_decide_from_the_top():
    scoring = Scoring(add_header=6, hold=10, reject=15)
    assert [scoring.action(total) for total in (5.9, 6, 9.99, 10, 15, 1000)] == [
        NO_ACTION, ADD_HEADER, ADD_HEADER, HOLD, REJECT, REJECT]
    assert scoring.action(15, after_queue=True) == HOLD
    assert Scoring().action(1000) == NO_ACTION


def test_the_score_leaves_out_observed_symbols():
    symbols = [Scored("spf", "mail_from", Symbol("SPF_FAIL", 2.5)),
               Scored("dkim", "end_of_message", Symbol("DKIM_ALLOW", -0.5)),
               Scored("new", "end_of_message", Symbol("NEW", 40), observed=True)]
    assert score(symbols) == 2.0
    assert Scoring(reject=15).header_value(NO_ACTION, 2.0, symbols) == (
        "no action [2 / 15]; SPF_FAIL(2.5)[spf], DKIM_ALLOW(-0.5)[dkim], NEW(40)[new, observed]")


def test_symbols_of_several_hooks_and_plugins_add_up_to_a_header():
    outcome = run_plugin(Spf, Content, message=message(4))
    assert outcome.accepted and not outcome.hold
    assert outcome.header("X-Filterd-Score") == "add_header [6.5 / 15]; SPF_FAIL(2.5)[Spf], CONTENT(4)[Content]"
    assert outcome.header("X-Spam") == "Yes"


def test_below_every_threshold_only_the_score_header_is_added():
    outcome = run_plugin(Content, message=message(1))
    assert outcome.header("X-Filterd-Score") == "no action [1 / 15]; CONTENT(1)[Content]"
    assert outcome.header("X-Spam") is None


class Silent:
    @hookimpl
    def end_of_message(self):
        return None


def test_a_message_without_symbols_is_left_alone(filterd_log):
    outcome = run_plugin(Silent, message=MESSAGE)
    assert outcome.message.as_bytes() == MESSAGE and "score" not in filterd_log.text


def test_without_a_reject_threshold_the_header_shows_the_score_alone():
    outcome = run_plugin(Spf, message=MESSAGE, settings=OFF)
    assert outcome.header("X-Filterd-Score") == "no action [2.5]; SPF_FAIL(2.5)[Spf]"


def test_the_hold_threshold_holds(filterd_log):
    outcome = run_plugin(Content, message=message(12), settings={"filterd_score_hold": "10"})
    assert outcome.accepted and outcome.hold == "score 12"
    assert "info: END-OF-MESSAGE from localhost[127.0.0.1]: score 12: hold; CONTENT(12)[Content]" in filterd_log.text
    assert "hold: END-OF-MESSAGE from localhost[127.0.0.1]: score 12;" in filterd_log.text


def test_the_reject_threshold_rejects_before_the_queue_and_logs_every_symbol(filterd_log):
    outcome = run_plugin(Spf, Content, message=message(1000))
    assert outcome.verdict.reply() == (550, "5.7.1", "Spam message rejected")
    assert "score 1002.5: reject; SPF_FAIL(2.5)[Spf], CONTENT(1000)[Content]" in filterd_log.text
    assert "reject: END-OF-MESSAGE from localhost[127.0.0.1]: 550 5.7.1 Spam message rejected;" in filterd_log.text


def test_after_the_queue_the_reject_threshold_holds():
    outcome = run_queue(Content, message=message(1000))
    assert outcome.accepted and outcome.hold == "score 1000"


def test_empty_thresholds_never_act():
    outcome = run_plugin(Content, message=message(1000), settings=OFF)
    assert outcome.accepted and not outcome.hold and outcome.header("X-Spam") is None


def test_an_observed_plugin_s_refusal_is_logged_as_reject_warning_counted_and_not_enforced(filterd_log):
    outcome = run_plugin(Refuser, Content, message=message(1), settings={"filterd_observe_plugins": "Refuser"})
    assert outcome.accepted
    assert (": reject_warning: END-OF-MESSAGE from localhost[127.0.0.1]: 550 5.7.1 no, says the new filter; "
            "from=<sender@example.org> to=<recipient@example.net> proto=ESMTP helo=<localhost>") in filterd_log.text
    assert outcome.header("X-Filterd-Score") == (
        "no action [1 / 15]; NEW_FILTER(20)[Refuser, observed], CONTENT(1)[Content]")
    assert [call.observed for call in outcome.trace if call.hook == "end_of_message"] == [True, False]


def test_the_chain_counts_each_observed_plugin_s_warnings():
    chain = Chain(load_plugins(Refuser, Content), scoring=Scoring(observed=frozenset({"Refuser"})))
    for _ in range(2):
        asyncio.run(simulate(chain, message(1)))
    assert chain.warnings == {"Refuser": 2}


def test_the_same_plugin_not_observed_decides():
    outcome = run_plugin(Refuser, Content, message=message(1))
    assert outcome.verdict.reply() == (550, "5.7.1", "no, says the new filter")


@pytest.mark.parametrize("value", ["x", "1e", "six"])
def test_a_threshold_that_is_no_number_stops_start_up(value):
    config = Config([("filterd_score_hold", value, 3)], CORE_PARAMETERS, "main.cf")
    with pytest.raises(ConfigError, match=f'main.cf:3: filterd_score_hold: bad value "{value}": expected a number'):
        validate_values(config)


def test_an_observed_plugin_that_is_not_listed_stops_start_up():
    config = Config([("filterd_plugins", "spf, dkim", 1), ("filterd_observe_plugins", "spf, dkmi", 2)], CORE_PARAMETERS,
                    "main.cf")
    with pytest.raises(ConfigError, match='main.cf:2: filterd_observe_plugins: "dkmi" is not in filterd_plugins'):
        validate_values(config)
