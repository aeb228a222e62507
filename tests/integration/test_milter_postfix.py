"""Real Postfix with smtpd_milters pointing at filterd's milter listener, relaying to smtp-sink."""

from __future__ import annotations

import smtplib
import subprocess
import time
from dataclasses import dataclass

import pytest

from tests.harness import CLIENT, FilterdProcess, Postfix, SmtpSink, free_port, wait_until

SENDER, RCPT = "alice@example.org", "bob@example.net"
PLUGINS = ("tests.fixtures.plugins.reject_subject, tests.fixtures.plugins.eom_reject, tests.fixtures.plugins.reroute, "
           "tests.fixtures.plugins.crash, tests.fixtures.plugins.milter_edits, tests.fixtures.plugins.milter_count")
POSTFIX_MILTER = {"milter_default_action": "tempfail", "milter_protocol": "6"}


@dataclass
class Setup:
    """Client -> Postfix (smtpd_milters = filterd) -> smtp-sink."""

    filterd: FilterdProcess
    postfix: Postfix
    sink: SmtpSink

    def send(self, subject: str, body: str = "hello\r\n", headers: str = "", rcpts: tuple[str, ...] = (RCPT,)) -> dict:
        with smtplib.SMTP("127.0.0.1", self.postfix.port, timeout=30) as client:
            return client.sendmail(SENDER, list(rcpts), message(subject, body, headers))

    def delivered(self, count: int = 1) -> list:
        """The messages smtp-sink received, once there are `count` of them."""
        self.sink.wait_for(count)
        return self.sink.dumps()

    def held(self) -> list[str]:
        """Queue ids in Postfix's hold queue."""
        hold = self.postfix.directory / "queue" / "hold"
        return [path.name for path in hold.iterdir()] if hold.exists() else []


def message(subject: str, body: str = "hello\r\n", headers: str = "") -> str:
    return f"From: {SENDER}\r\nTo: {RCPT}\r\nSubject: {subject}\r\n{headers}\r\n{body}"


def start(filterd_factory, postfix_factory, sink, milter: str, listeners: str, port: int, **settings) -> Setup:
    filterd = filterd_factory({"filterd_listeners": listeners, "filterd_plugins": PLUGINS,
                               "plugin_timeout": "1s", **settings}, port=port)
    postfix = postfix_factory.relay(sink.port, {**POSTFIX_MILTER, "smtpd_milters": milter})
    return Setup(filterd, postfix, sink)


@pytest.fixture
def setup(smtp_sink, filterd_factory, postfix_factory) -> Setup:
    port = free_port()
    listener = f"inet:127.0.0.1:{port}"
    return start(filterd_factory, postfix_factory, smtp_sink, listener, f"milter:{listener}", port)


def test_an_accepted_message_carries_the_added_header(setup):
    assert setup.send("plain", "one\r\ntwo\r\n") == {}
    [dump] = setup.delivered()
    assert dump.sender == SENDER and dump.recipients == [RCPT]
    assert b"\nX-Filterd-Seen: rcpts=1 headers=5 lines=2\n" in dump.content
    assert dump.content.endswith(b"\n\none\ntwo\n")


def test_a_header_stage_reject_with_its_own_text_reaches_the_client(setup):
    with pytest.raises(smtplib.SMTPDataError) as refused:
        setup.send("please REJECTME")
    assert (refused.value.smtp_code, refused.value.smtp_error) == (550, b"5.7.1 Subject refused by policy")
    assert setup.sink.received() == 0
    setup.postfix.wait_log(r"milter-reject: END-OF-MESSAGE from .*: 5\.7\.1 Subject refused by policy")


def test_an_end_of_message_reject_reaches_the_client(setup):
    with pytest.raises(smtplib.SMTPDataError) as refused:
        setup.send("content", "a BADWORD here\r\n")
    assert (refused.value.smtp_code, refused.value.smtp_error) == (550, b"5.7.1 Message content rejected")


def test_a_deferral_is_a_temporary_failure_with_its_text(setup):
    with pytest.raises(smtplib.SMTPDataError) as refused:
        setup.send("DEFERME")
    assert (refused.value.smtp_code, refused.value.smtp_error) == (451, b"4.7.1 Try again later")
    assert setup.sink.received() == 0


def test_discard_says_250_and_postfix_drops_the_message(setup):
    assert setup.send("quiet", "DISCARDME\r\n") == {}
    setup.postfix.wait_log(r"milter-discard: END-OF-MESSAGE from ")
    assert setup.sink.received() == 0


def test_hold_puts_the_message_in_postfix_hold_queue(setup):
    assert setup.send("HOLDME") == {}
    setup.postfix.wait_log(r"milter-hold: END-OF-MESSAGE from ")
    [queue_id] = wait_until(setup.held, 10, "a message in the hold queue")
    listing = subprocess.run(["postqueue", "-c", str(setup.postfix.config_dir), "-p"], capture_output=True,
                             text=True, check=True).stdout
    assert f"{queue_id}!" in listing
    assert setup.sink.received() == 0


def test_the_body_is_replaced(setup):
    setup.send("REPLACEBODY", "original\r\n")
    [dump] = setup.delivered()
    assert dump.content.endswith(b"\n\nreplaced body\nsecond line\n")
    assert b"original" not in dump.content


def test_a_body_line_edit_replaces_the_body(setup):
    setup.send("lines", "public\r\nthe SECRET word\r\nend\r\n")
    [dump] = setup.delivered()
    assert dump.content.endswith(b"\n\npublic\n[redacted]\nend\n")


def test_header_edits_land_where_filterd_puts_them(setup):
    setup.send("EDITME", headers="X-Remove-Me: 1\r\nX-Replace-Me: 2\r\nX-Strip-Me: 3\r\nX-Keep: 4\r\n")
    [dump] = setup.delivered()
    head = dump.content.split(b"\n\n", 1)[0].decode()
    names = [line.split(":", 1)[0] for line in head.splitlines() if line[:1] not in (" ", "\t")]
    assert names[:2] == ["X-Top", "Received"]
    visible = names[names.index("Received") + 1:]
    assert visible[:4] == ["X-Second", "X-Before-From", "From", "To"]
    assert "Subject: edited" in head and "X-Replaced: yes" in head and "X-Keep: 4" in head
    assert not {"X-Remove-Me", "X-Replace-Me", "X-Strip-Me"} & set(names)
    assert visible[-2:] == ["X-Added", "X-Filterd-Seen"] or visible[-1] == "X-Added"


def test_redirect_deletes_every_recipient_and_adds_the_new_one(setup):
    setup.send("REDIRECTME", rcpts=(RCPT, "carol@example.net"))
    [dump] = setup.delivered()
    assert dump.recipients == ["archive@example.net"]


def test_bcc_adds_a_recipient(setup):
    setup.send("BCCME")
    [dump] = setup.delivered()
    assert sorted(dump.recipients) == sorted([RCPT, "copy@example.net"])


def test_transactions_on_one_connection_keep_no_state(setup):
    with smtplib.SMTP("127.0.0.1", setup.postfix.port, timeout=30) as client:
        client.sendmail(SENDER, [RCPT], message("BCCME", "a\r\nb\r\n"))
        client.rset()
        client.mail(SENDER)
        client.rcpt("dave@example.net")
        client.rset()
        with pytest.raises(smtplib.SMTPDataError):
            client.sendmail(SENDER, [RCPT], message("REJECTME"))
        client.sendmail(SENDER, [RCPT], message("plain", "a\r\nb\r\n"))
    # Postfix's qmgr delivers the two at once: either may reach the sink first
    first, second = sorted(setup.delivered(2), key=lambda dump: b"Subject: BCCME" not in dump.content)
    assert sorted(first.recipients) == sorted([RCPT, "copy@example.net"])
    assert second.recipients == [RCPT]
    for dump in (first, second):
        assert dump.content.count(b"X-Filterd-Seen: rcpts=1 headers=5 lines=2\n") == 1


def test_a_crashing_plugin_tempfails_within_a_second(setup):
    started = time.monotonic()
    with pytest.raises(smtplib.SMTPDataError) as refused:
        setup.send("CRASHME")
    assert time.monotonic() - started < 1.0
    assert (refused.value.smtp_code, refused.value.smtp_error) == (451, b"4.7.1 Service unavailable - try again later")
    assert "plugin tests.fixtures.plugins.crash: header hook failed: RuntimeError: plugin bug" in setup.filterd.log()
    assert setup.sink.received() == 0


def test_a_plugin_timeout_tempfails_after_plugin_timeout(setup):
    started = time.monotonic()
    with pytest.raises(smtplib.SMTPDataError) as refused:
        setup.send("SLOWME")
    assert time.monotonic() - started < 3.0
    assert refused.value.smtp_code == 451


def test_the_milter_over_a_unix_socket(smtp_sink, filterd_factory, postfix_factory, mta_dir):
    path = mta_dir / "filterd.milter"
    port = free_port()
    setup = start(filterd_factory, postfix_factory, smtp_sink, f"unix:{path}",
                  f"milter:unix:{path} milter:inet:127.0.0.1:{port}", port)
    setup.send("over unix")
    [dump] = setup.delivered()
    assert b"X-Filterd-Seen: rcpts=1 headers=5 lines=1" in dump.content



def test_envelope_edits_become_chgfrom_addrcpt_and_delrcpt(smtp_sink, postfix_factory, filterd_factory):
    """tests/fixtures/plugins/envelope_edits.py rewrites the envelope; Postfix applies it as a milter's CHGFROM,
    ADDRCPT and DELRCPT."""
    import smtplib

    from tests.harness import free_port

    port = free_port()
    filterd_factory({"filterd_listeners": f"milter:inet:127.0.0.1:{port}",
                     "filterd_plugins": "tests.fixtures.plugins.envelope_edits"}, port=port)
    postfix = postfix_factory.relay(smtp_sink.port, {"smtpd_milters": f"inet:127.0.0.1:{port}",
                                                     "milter_default_action": "tempfail"})
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as client:
        client.sendmail("alice@example.org", ["bob@example.net"], "Subject: REWRITE me\r\n\r\nbody\r\n")
    smtp_sink.wait_for(1)
    [dump] = smtp_sink.dumps()
    assert dump.sender == "bounces@example.org"
    assert dump.recipients == ["added@example.net"]


def test_with_no_plugin_behind_the_milter_postfix_sends_end_of_message_only(smtp_sink, postfix_factory,
                                                                             filterd_factory):
    """A queue hook does not run behind the milter: filterd asks for no CONNECT, HELO, MAIL or RCPT, and
    Postfix delivers the message as it came."""
    port = free_port()
    filterd = filterd_factory({"filterd_listeners": f"milter:inet:127.0.0.1:{port}",
                               "filterd_plugins": "tests.fixtures.plugins.after_queue"}, port=port)
    postfix = postfix_factory.relay(smtp_sink.port, {**POSTFIX_MILTER, "smtpd_milters": f"inet:127.0.0.1:{port}"})
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as client:
        client.sendmail(SENDER, [RCPT], message("untouched"))
    [dump] = smtp_sink.wait_for(1, timeout=30)
    assert b"Subject: untouched" in dump and b"X-After-Queue" not in dump
    assert [line for line in postfix.maillog().splitlines() if "warning" in line and "milter" in line] == []
    assert "error" not in filterd.log()


def test_a_plugin_declaring_its_changes_is_sent_end_of_message_alone(smtp_sink, postfix_factory, filterd_factory):
    """tests/fixtures/plugins/declared.py declares a header edit and reads no envelope: Postfix sends no CONNECT,
    HELO, MAIL or RCPT (filterd's log has no HELO name or sender), and its cleanup sends the client as
    end-of-message macros for filterd's log. A change the plugin did not declare is a plugin error."""
    port = free_port()
    filterd = filterd_factory({"filterd_listeners": f"milter:inet:127.0.0.1:{port}",
                               "filterd_plugins": "tests.fixtures.plugins.declared"}, port=port)
    postfix = postfix_factory.relay(smtp_sink.port, {**POSTFIX_MILTER, "smtpd_milters": f"inet:127.0.0.1:{port}"})
    setup = Setup(filterd, postfix, smtp_sink)
    assert setup.send("plain") == {}
    [dump] = setup.delivered()
    assert b"\nX-Declared: yes\n" in dump.content and dump.recipients == [RCPT]
    with pytest.raises(smtplib.SMTPDataError) as refused:
        setup.send("REJECTME")
    assert (refused.value.smtp_code, refused.value.smtp_error) == (550, b"5.7.1 Declared refusal")
    [line] = [line for line in filterd.log().splitlines() if "reject: END-OF-MESSAGE" in line]
    assert line.endswith(f": reject: END-OF-MESSAGE from {CLIENT}: 550 5.7.1 Declared refusal; proto=SMTP")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        setup.send("UNDECLARED")
    assert refused.value.smtp_code == 451
    assert "plugin tests.fixtures.plugins.declared: end_of_message hook: undeclared change: redirect" in filterd.log()
    assert setup.sink.received() == 1
    assert [line for line in postfix.maillog().splitlines() if "warning" in line and "milter" in line] == []
