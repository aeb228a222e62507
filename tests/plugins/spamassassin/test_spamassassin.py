"""The spamassassin plugin against a real spamd (one per module, on a loopback port and a unix socket): ham gets
spamd's headers, GTUBE is rejected before the queue and held after it, and spamd down or silent gets the
configured action, the cause logged."""

from __future__ import annotations

import socket

import pytest

from filterd import ConfigError
from filterd.plugins import spamassassin
from filterd.testing import load_plugins, run_plugin, run_queue
from tests.fixtures.scanners import GTUBE, Spamd, message
from tests.harness import HOST, free_port

HAM = message(b"Hello,\r\n\r\nthe minutes of Tuesday's meeting are attached.\r\n")
SPAM = message(GTUBE)


@pytest.fixture(scope="module")
def spamd(tmp_path_factory):
    with Spamd(tmp_path_factory.mktemp("spamd")) as service:
        yield service


def settings(spamd_address: str, **more: str) -> dict[str, str]:
    return {"filterd_spamassassin_spamd": spamd_address, **{f"filterd_spamassassin_{k}": v for k, v in more.items()}}


def test_ham_passes_with_spamd_s_headers_and_its_score_as_a_symbol(spamd):
    outcome = run_plugin(spamassassin, message=HAM, settings=settings(spamd.address))
    assert outcome.accepted and not outcome.hold
    assert outcome.header("X-Spam-Status").startswith("No, score=")
    assert "tests=" in outcome.header("X-Spam-Status")
    assert float(outcome.header("X-Spam-Score")) < 5
    assert outcome.header("X-Spam-Flag") is None
    assert outcome.header("X-Filterd-Score").startswith("no action [")
    assert "SPAMASSASSIN(" in outcome.header("X-Filterd-Score")


def test_gtube_is_rejected_before_the_queue(spamd):
    outcome = run_plugin(spamassassin, message=SPAM, settings=settings(spamd.address, reject_score="10"))
    assert outcome.verdict.reply() == (550, "5.7.1", "Spam message rejected")


def test_gtube_over_the_unix_socket_is_flagged_and_the_report_added(spamd):
    outcome = run_plugin(spamassassin, message=SPAM, settings={
        **settings(f"unix:{spamd.socket}", report="yes"), "filterd_score_reject": ""})
    assert outcome.accepted
    assert outcome.header("X-Spam-Flag") == "YES"
    assert outcome.header("X-Spam-Status").startswith("Yes, score=1000")
    assert "GTUBE" in outcome.header("X-Spam-Status") and "GTUBE" in outcome.header("X-Spam-Report")
    assert outcome.header("X-Spam") == "Yes"


def test_gtube_is_held_after_the_queue(spamd):
    outcome = run_queue(spamassassin, message=SPAM, settings=settings(spamd.address, reject_score="10",
                                                                      hook="queue"))
    assert outcome.accepted and outcome.hold.startswith("spamassassin score 1000")
    assert outcome.header("X-Spam-Flag") == "YES"


def test_the_hold_score_holds_before_the_queue(spamd):
    outcome = run_plugin(spamassassin, message=SPAM, settings={**settings(spamd.address, hold_score="5"),
                                                                "filterd_score_reject": ""})
    assert outcome.accepted and outcome.hold.startswith("spamassassin score 1000")


def test_the_scan_hook_the_settings_do_not_name_passes(spamd):
    outcome = run_queue(spamassassin, message=SPAM, settings=settings(spamd.address, reject_score="10"))
    assert outcome.accepted and not outcome.hold and outcome.header("X-Spam-Status") is None


def test_a_message_over_the_size_limit_is_not_scanned(spamd):
    outcome = run_plugin(spamassassin, message=SPAM, settings=settings(spamd.address, reject_score="10",
                                                                       size_limit="100"))
    assert outcome.accepted and outcome.header("X-Spam-Status") is None


def test_spamd_down_delivers_and_logs_a_warning(filterd_log):
    down = f"inet:{HOST}:{free_port()}"
    outcome = run_plugin(spamassassin, message=SPAM, settings=settings(down))
    assert outcome.accepted and outcome.header("X-Spam-Status") is None
    assert f"warn: END-OF-MESSAGE from localhost[127.0.0.1]: spamassassin: spamd {down}: " in filterd_log.text


@pytest.mark.parametrize(("action", "reply"), [("tempfail", (451, "4.7.1", "Service unavailable - try again later")),
                                               ("reject", (550, "5.7.1", "Command rejected"))])
def test_spamd_down_gets_the_configured_action(action, reply, filterd_log):
    outcome = run_plugin(spamassassin, message=HAM, settings=settings(f"inet:{HOST}:{free_port()}",
                                                                      default_action=action))
    assert outcome.verdict.reply() == reply
    assert "spamassassin: spamd inet:" in filterd_log.text


def test_spamd_that_never_answers_times_out_into_the_configured_action(filterd_log):
    with socket.create_server((HOST, 0)) as silent:
        address = f"inet:{HOST}:{silent.getsockname()[1]}"
        outcome = run_plugin(spamassassin, message=HAM, settings=settings(address, timeout="1s",
                                                                          default_action="quarantine"))
    assert outcome.accepted and outcome.hold == "spamassassin: spamd " + address + " unavailable"
    assert "TimeoutError" in filterd_log.text


def test_per_recipient_names_the_only_recipient_as_spamd_s_user():
    config = {"user": "spam", "per_recipient": "yes"}
    loaded = load_plugins(spamassassin, settings=settings("inet:127.0.0.1:783", **config))
    taken = loaded.settings["filterd.plugins.spamassassin"]
    assert taken.user_for(["a@example.net"]) == "a@example.net"
    assert taken.user_for(["a@example.net", "b@example.net"]) == "spam"
    assert taken.user_for([]) == "spam"


@pytest.mark.parametrize(("name", "value", "error"), [
    ("spamd", "127.0.0.1:783", "expected inet:HOST:PORT or unix:/PATH"),
    ("default_action", "ignore", "expected one of accept, tempfail, reject, quarantine"),
    ("reject_score", "high", "expected a number"),
    ("hook", "rcpt", "expected one of end_of_message, queue")])
def test_a_bad_setting_stops_start_up_naming_it(name, value, error):
    with pytest.raises(ConfigError, match=f"filterd_spamassassin_{name}: bad value \"{value}\": {error}"):
        run_plugin(spamassassin, message=HAM, settings={f"filterd_spamassassin_{name}": value})


def test_a_timeout_not_below_plugin_timeout_stops_start_up():
    with pytest.raises(ConfigError, match=r"filterd_spamassassin_timeout: 30s is not below plugin_timeout \(30s\)"):
        run_plugin(spamassassin, message=HAM, settings={"filterd_spamassassin_timeout": "30s"})
