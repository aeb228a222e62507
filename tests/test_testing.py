"""filterd.testing, the plugin author's helpers: every setting and argument they take does something, or is refused."""

from __future__ import annotations

import asyncio
import email

import pytest

from filterd import Action, ConfigError, Verdict, hookimpl
from filterd.testing import load_plugins, make_message, run_plugin, run_plugin_async, run_queue


class Stuck:
    """A coroutine hook that never answers: only plugin_timeout ends it."""

    @hookimpl
    async def end_of_message(self):
        await asyncio.Event().wait()


class Crashes:
    @hookimpl
    def end_of_message(self):
        raise RuntimeError("bug")


class Sees:
    """Answers with what it saw of the session and envelope, as a WARN."""

    @hookimpl
    def end_of_message(self, session, envelope):
        return Verdict.warn(f"{session.client} helo={session.helo} from=<{envelope.sender}> "
                            f"to={','.join(envelope.recipients)}")


def test_plugin_timeout_bounds_each_call():
    outcome = run_plugin(Stuck, message=make_message(), settings={"plugin_timeout": "0s"})
    assert outcome.action is Action.DEFER
    assert outcome.trace[-1].error == "timeout after 0s"


def test_plugin_error_action_is_what_a_failure_answers():
    assert run_plugin(Crashes, message=make_message()).verdict.reply() == (451, "4.7.1", "Service unavailable - "
                                                                                         "try again later")
    outcome = run_plugin(Crashes, message=make_message(), settings={"plugin_error_action": "reject"})
    assert outcome.verdict.reply() == (550, "5.7.1", "Command rejected")
    assert outcome.trace[-1].error == "RuntimeError: bug"


def test_both_chain_settings_together():
    settings = {"plugin_timeout": "0s", "plugin_error_action": "quarantine"}
    outcome = run_plugin(Stuck, message=make_message(), settings=settings)
    assert (outcome.action, outcome.hold) == (Action.HOLD, "plugin error")


def test_a_setting_nothing_reads_is_refused():
    with pytest.raises(ValueError, match="^run_plugin: setting message_size_limit has no effect: no plugin reads it"):
        run_plugin(Sees, message=make_message(), settings={"message_size_limit": "10"})


def test_load_plugins_refuses_the_chain_s_settings_it_cannot_honour():
    with pytest.raises(ValueError, match="^load_plugins: setting plugin_timeout has no effect: .* builds no chain"):
        load_plugins(Sees, settings={"plugin_timeout": "1s"})


def test_an_unknown_setting_is_a_config_error():
    with pytest.raises(ConfigError, match='unknown parameter "plugin_timout"'):
        run_plugin(Sees, message=make_message(), settings={"plugin_timout": "1s"})


def test_a_setting_read_through_another_s_value_counts_as_read():
    class Greets:
        @hookimpl
        def parameters(self):
            return {"greeting": "hello from $myhostname"}

        @hookimpl
        def configure(self, config):
            return config.get("greeting")

        @hookimpl
        def end_of_message(self, settings):
            return Verdict.warn(settings)

    outcome = run_plugin(Greets, message=make_message(), settings={"myhostname": "mx.example.com"})
    assert outcome.trace[-1].verdict.text == "hello from mx.example.com"


def test_the_session_and_envelope_arguments():
    outcome = run_plugin(Sees, message=make_message(), sender="", recipients=["a@example.net", "b@example.net"],
                         client_address="192.0.2.1", client_name="mail.example.org", helo="mail.example.org")
    assert outcome.trace[-1].verdict.text == ("mail.example.org[192.0.2.1] helo=mail.example.org from=<> "
                                              "to=a@example.net,b@example.net")


def test_add_received_puts_filterd_s_received_header_on_top_naming_myhostname():
    class FirstHeader:
        @hookimpl
        def end_of_message(self, message):
            return Verdict.warn(message.headers[0].text)

    first = run_plugin(FirstHeader, message=make_message(), add_received=True, settings={"myhostname": "mx.example"})
    assert first.trace[-1].verdict.text.startswith("Received: from localhost (localhost [127.0.0.1])")
    assert "by mx.example (filterd) with " in " ".join(first.trace[-1].verdict.text.split())
    assert run_plugin(FirstHeader, message=make_message()).trace[-1].verdict.text.startswith("From: ")


def test_run_plugin_async_in_a_test_s_own_loop():
    outcome = asyncio.run(run_plugin_async(Crashes, message=make_message(), settings={"plugin_error_action": "reject"}))
    assert outcome.action is Action.REJECT


def test_make_message_builds_headers_body_and_attachments():
    data = make_message(subject="s", body="text\n", sender="a@example.org", to="b@example.net",
                        headers={"X-Extra": "1"}, attachments={"a.bin": b"\x00\x01"})
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert (parsed["From"], parsed["To"], parsed["Subject"], parsed["X-Extra"]) == ("a@example.org", "b@example.net",
                                                                                   "s", "1")
    parts = list(parsed.iter_parts())
    assert parts[0].get_content().splitlines() == ["text"]
    assert (parts[1].get_filename(), parts[1].get_content()) == ("a.bin", b"\x00\x01")


class Archives:
    @hookimpl
    def queue(self, envelope):
        if envelope.sender == "":
            return Verdict.hold("bounce held for review")
        return Verdict.bcc("archive@example.org").with_edits(*Verdict.add_header("X-Archived", "yes").edits)


def test_run_queue_runs_the_after_queue_hook():
    outcome = run_queue(Archives, message=make_message())
    assert (outcome.accepted, outcome.bcc, outcome.header("X-Archived")) == (True, ["archive@example.org"], "yes")
    assert [(call.hook, call.plugin) for call in outcome.trace] == [("queue", "Archives")]
    held = run_queue(Archives, message=make_message(), sender="")
    assert (held.action, held.hold) == (Action.HOLD, "bounce held for review")


def test_run_queue_honours_the_chain_s_settings():
    class Bounces:
        @hookimpl
        def queue(self):
            raise RuntimeError("bug")

    outcome = run_queue(Bounces, message=make_message(), settings={"plugin_error_action": "reject"})
    assert outcome.verdict.reply() == (550, "5.7.1", "Command rejected")
