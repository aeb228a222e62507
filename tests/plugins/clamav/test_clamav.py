"""The clamav plugin against a real clamd (one per module, on the test's own database, a loopback port and a unix
socket): EICAR and a custom signature rejected before the queue with the signature's name, held after it; clean mail
passes; clamd down gets the configured action."""

from __future__ import annotations

import pytest

from filterd import ConfigError
from filterd.plugins import clamav
from filterd.testing import run_plugin, run_queue
from tests.fixtures.scanners import CUSTOM_NAME, CUSTOM_PATTERN, EICAR, EICAR_NAME, FOUND_SUFFIX, Clamd, message, \
    with_attachment
from tests.harness import HOST, free_port

CLEAN = message(b"nothing to see here")


@pytest.fixture(scope="module")
def clamd(tmp_path_factory):
    with Clamd(tmp_path_factory.mktemp("clamd")) as service:
        yield service


def test_eicar_attached_is_rejected_with_its_name_in_the_reply_and_the_log(clamd, filterd_log):
    outcome = run_plugin(clamav, message=with_attachment(EICAR), settings={"filterd_clamav_clamd": clamd.address})
    assert outcome.verdict.reply() == (550, "5.7.1", f"Virus found: {EICAR_NAME}{FOUND_SUFFIX}")
    assert f"reject: END-OF-MESSAGE from localhost[127.0.0.1]: 550 5.7.1 Virus found: {EICAR_NAME}" in filterd_log.text


def test_the_custom_signature_is_found_over_the_unix_socket(clamd):
    outcome = run_plugin(clamav, message=message(b"a line with " + CUSTOM_PATTERN + b" in it"),
                         settings={"filterd_clamav_clamd": f"unix:{clamd.socket}"})
    assert outcome.verdict.reply()[2] == f"Virus found: {CUSTOM_NAME}{FOUND_SUFFIX}"


def test_a_virus_is_held_after_the_queue(clamd):
    outcome = run_queue(clamav, message=with_attachment(EICAR),
                        settings={"filterd_clamav_clamd": clamd.address, "filterd_clamav_hook": "queue"})
    assert outcome.accepted and outcome.hold == f"virus {EICAR_NAME}{FOUND_SUFFIX}"


def test_clean_mail_passes_unchanged(clamd):
    outcome = run_plugin(clamav, message=with_attachment(b"just bytes"),
                         settings={"filterd_clamav_clamd": clamd.address})
    assert outcome.accepted and not outcome.hold and outcome.message.as_bytes() == with_attachment(b"just bytes")


def test_a_message_over_the_size_limit_is_not_scanned(clamd):
    outcome = run_plugin(clamav, message=with_attachment(EICAR), settings={"filterd_clamav_clamd": clamd.address,
                                                                           "filterd_clamav_size_limit": "100"})
    assert outcome.accepted


def test_clamd_down_defers_by_default_and_logs_why(filterd_log):
    down = f"inet:{HOST}:{free_port()}"
    outcome = run_plugin(clamav, message=CLEAN, settings={"filterd_clamav_clamd": down})
    assert outcome.verdict.reply() == (451, "4.7.1", "Service unavailable - try again later")
    assert f"warn: END-OF-MESSAGE from localhost[127.0.0.1]: clamav: clamd {down}: ConnectionRefusedError" in \
        filterd_log.text


def test_clamd_down_with_accept_delivers(filterd_log):
    outcome = run_plugin(clamav, message=with_attachment(EICAR), settings={
        "filterd_clamav_clamd": "unix:/nonexistent/clamd.ctl", "filterd_clamav_default_action": "accept"})
    assert outcome.accepted
    assert "clamav: clamd unix:/nonexistent/clamd.ctl: FileNotFoundError" in filterd_log.text


def test_clamd_s_own_size_limit_is_an_error_that_gets_the_default_action(tmp_path, filterd_log):
    with Clamd(tmp_path / "clamd", "StreamMaxLength 1K\n") as small:
        outcome = run_plugin(clamav, message=message(b"x" * 4000), settings={"filterd_clamav_clamd": small.address})
    assert outcome.verdict.reply() == (451, "4.7.1", "Service unavailable - try again later")
    assert f"clamav: clamd {small.address}: INSTREAM size limit exceeded." in filterd_log.text


@pytest.mark.parametrize(("name", "value", "error"), [
    ("clamd", "/run/clamav/clamd.ctl", "expected inet:HOST:PORT or unix:/PATH"),
    ("default_action", "defer", "expected one of accept, tempfail, reject, quarantine"),
    ("timeout", "1m", r"1m is not below plugin_timeout \(30s\)")])
def test_a_bad_setting_stops_start_up_naming_it(name, value, error):
    with pytest.raises(ConfigError, match=f"filterd_clamav_{name}: .*{error}"):
        run_plugin(clamav, message=CLEAN, settings={f"filterd_clamav_{name}": value})
