"""filterd's before-queue proxy between a real client and Postfix's smtp-sink."""

from __future__ import annotations

import smtplib

import pytest

from tests.harness import CLIENT, CLIENT_NAME, swaks

SENDER, RCPT = "alice@example.org", "bob@example.net"


def message(subject: str, body: str = "hello\r\n") -> str:
    return f"From: {SENDER}\r\nTo: {RCPT}\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}@t>\r\n\r\n{body}"


def send(port: int, subject: str, body: str = "hello\r\n") -> dict:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        return client.sendmail(SENDER, [RCPT], message(subject, body))


@pytest.fixture
def proxy(smtp_sink, filterd_factory):
    """filterd proxy with a header-stage reject, an end-of-message reject and a tagging plugin."""
    plugins = "tests.fixtures.plugins.reject_subject, tests.fixtures.plugins.eom_reject, tests.fixtures.plugins.tag"
    return filterd_factory({"filterd_plugins": plugins}, nexthop_port=smtp_sink.port)


def test_accepted_mail_reaches_the_sink_with_the_added_header(proxy, smtp_sink):
    send(proxy.port, "hello there", "line one\r\nline two\r\n")
    [dump] = smtp_sink.dumps()
    assert dump.sender == SENDER and dump.recipients == [RCPT]
    assert b"X-Filterd-Tag: tagged; lines=2" in dump.content
    assert b"by filterd.test (filterd) with ESMTP id" in dump.content
    assert dump.content.rstrip().endswith(b"line two")
    log = proxy.log()
    assert "dsn=2.0.0, status=sent (250 2.0.0 Ok" in log
    assert f"to=<{RCPT}>, relay=127.0.0.1[127.0.0.1]:{smtp_sink.port}, delay=" in log


def test_a_header_stage_reject_reaches_the_client_and_nothing_is_relayed(proxy, smtp_sink):
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(proxy.port, "please REJECTME")
    assert refused.value.smtp_code == 550
    assert refused.value.smtp_error == b"5.7.1 Subject refused by policy"
    assert smtp_sink.received() == 0
    assert f"reject: header Subject: please REJECTME from {CLIENT}; " \
           f"from=<{SENDER}> to=<{RCPT}> proto=ESMTP helo=<" in proxy.log()


def test_an_end_of_message_reject_is_logged_in_postfix_words(proxy, smtp_sink):
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(proxy.port, "content", "this has a BADWORD in it\r\n")
    assert (refused.value.smtp_code, refused.value.smtp_error) == (550, b"5.7.1 Message content rejected")
    assert smtp_sink.received() == 0
    assert f": reject: END-OF-MESSAGE from {CLIENT}: 550 5.7.1 Message content rejected; " \
           f"from=<{SENDER}> to=<{RCPT}> proto=ESMTP helo=<" in proxy.log()


def test_a_4xx_reject_defers(proxy, smtp_sink):
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(proxy.port, "DEFERME")
    assert (refused.value.smtp_code, refused.value.smtp_error) == (451, b"4.7.1 Try again later")
    assert smtp_sink.received() == 0


def test_discard_says_250_and_delivers_nothing(proxy, smtp_sink):
    assert send(proxy.port, "quiet", "DISCARDME\r\n") == {}
    assert smtp_sink.received() == 0
    assert f"discard: END-OF-MESSAGE from {CLIENT}: silently dropped" in proxy.log()


def test_the_session_goes_on_after_a_reject(proxy, smtp_sink):
    with smtplib.SMTP("127.0.0.1", proxy.port, timeout=30) as client:
        with pytest.raises(smtplib.SMTPDataError):
            client.sendmail(SENDER, [RCPT], message("REJECTME"))
        client.sendmail(SENDER, [RCPT], message("second"))
    [dump] = smtp_sink.dumps()
    assert b"Subject: second" in dump.content


def test_downstream_rejections_go_back_to_the_client_as_they_are(smtp_sink_factory, filterd_factory):
    sink = smtp_sink_factory(hard_reject=["RCPT"])
    proxy = filterd_factory(nexthop_port=sink.port)
    with smtplib.SMTP("127.0.0.1", proxy.port, timeout=30) as client:
        client.ehlo()
        client.mail(SENDER)
        code, text = client.rcpt(RCPT)
    assert code == 500
    assert text == b"5.3.0 Error: command failed"


def test_downstream_down_gives_451_and_a_log_line(filterd_factory):
    from tests.harness import free_port

    proxy = filterd_factory(nexthop_port=free_port())
    with smtplib.SMTP("127.0.0.1", proxy.port, timeout=30) as client:
        client.ehlo()
        code, text = client.mail(SENDER)
    assert (code, text) == (451, b"4.3.0 Error: queue file write error")
    assert "connect to proxy filter 127.0.0.1:" in proxy.log()


def test_swaks_through_the_proxy(proxy, smtp_sink):
    result = swaks("--server", f"127.0.0.1:{proxy.port}", "--from", SENDER, "--to", RCPT,
                   "--header", "Subject: via swaks")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<-  250 2.0.0 Ok" in result.stdout
    assert b"Subject: via swaks" in smtp_sink.wait_for(1)[0]


def test_xforward_carries_the_original_client_downstream(filterd_factory):
    """A second filterd in sink mode stands in for a downstream that offers XFORWARD."""
    from tests.harness import free_port

    port = free_port()
    downstream = filterd_factory({"filterd_listeners": f"sink:127.0.0.1:{port}",
                                  "smtpd_authorized_xforward_hosts": "127.0.0.0/8"}, port=port)
    proxy = filterd_factory(nexthop_port=port)
    with smtplib.SMTP("127.0.0.1", proxy.port, local_hostname="client.example", timeout=30) as client:
        client.sendmail(SENDER, [RCPT], message("xforward"))
    [stored] = list((downstream.directory / "queue" / "sink").iterdir())
    assert f"Received: from client.example ({CLIENT_NAME} [127.0.0.1])".encode() in stored.read_bytes()


def test_xforward_stands_for_the_client_until_the_transaction_ends(filterd_factory):
    """A second XFORWARD is authorized by the real client, not the one the first forwarded; the next transaction has
    the real client again unless XFORWARD comes again (Postfix's mail_reset)."""
    from tests.harness import free_port

    port = free_port()
    sink = filterd_factory({"filterd_listeners": f"sink:127.0.0.1:{port}",
                            "smtpd_authorized_xforward_hosts": "127.0.0.0/8"}, port=port)
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=30) as client:
        client.ehlo()
        assert client.docmd("XFORWARD", "NAME=spam.example ADDR=192.0.2.7 HELO=spam.example")[0] == 250
        assert client.docmd("XFORWARD", "PORT=4321 IDENT=ABC123 SOURCE=REMOTE")[0] == 250
        client.sendmail(SENDER, [RCPT], message("forwarded"))
        client.sendmail(SENDER, [RCPT], message("real"))
    stored = sorted((sink.directory / "queue" / "sink").iterdir(), key=lambda p: p.stat().st_mtime_ns)
    received = [p.read_bytes().split(b"Received: from ")[1].split(b")")[0] for p in stored]
    assert received == 2 * [f"client.example ({CLIENT_NAME} [127.0.0.1]".encode()]  # the connection's, as Postfix
    lines = [line for line in sink.log().splitlines() if ": client=" in line]
    assert [line.split(": client=")[1] for line in lines] == [
        f"{CLIENT}, orig_queue_id=ABC123, orig_client=spam.example[192.0.2.7]", CLIENT]  # Postfix's words


@pytest.fixture
def rerouting_proxy(smtp_sink, filterd_factory):
    return filterd_factory({"filterd_plugins": "tests.fixtures.plugins.reroute"}, nexthop_port=smtp_sink.port)


def test_redirect_replaces_the_recipients_downstream(rerouting_proxy, smtp_sink):
    send(rerouting_proxy.port, "REDIRECTME")
    [dump] = smtp_sink.dumps()
    assert dump.recipients == ["archive@example.net"]
    assert f"redirect: header Subject: REDIRECTME from {CLIENT}; " in rerouting_proxy.log()
    assert "to=<archive@example.net>, relay=" in rerouting_proxy.log()


def test_bcc_adds_a_recipient_downstream(rerouting_proxy, smtp_sink):
    send(rerouting_proxy.port, "BCCME")
    [dump] = smtp_sink.dumps()
    assert dump.recipients == [RCPT, "copy@example.net"]


def test_hold_is_logged_and_the_message_relayed(rerouting_proxy, smtp_sink):
    send(rerouting_proxy.port, "HOLDME")
    assert smtp_sink.received() == 1
    assert f"hold: header Subject: HOLDME from {CLIENT}; " in rerouting_proxy.log()


def test_envelope_edits_restart_the_downstream_transaction(smtp_sink, filterd_factory):
    proxy = filterd_factory({"filterd_plugins": "tests.fixtures.plugins.envelope_edits"}, nexthop_port=smtp_sink.port)
    send(proxy.port, "REWRITE please")
    [dump] = smtp_sink.dumps()
    assert dump.sender == "bounces@example.org"
    assert dump.recipients == ["added@example.net"]
