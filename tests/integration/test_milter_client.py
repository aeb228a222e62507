"""filterd's milter client (smtpd_milters) against real milters: OpenDKIM signing, a pymilter milter, filterd's
own milter listener, and milters that are down or die, with filterd's proxy relaying to smtp-sink."""

from __future__ import annotations

import smtplib

import dkim
import pytest

from tests.harness import CLIENT, Postfix, free_port
from tests.milter.client.services import DOMAIN, SELECTOR, OpenDkim, TagMilter, UnixTagMilter

SENDER, RCPT = f"alice@{DOMAIN}", "bob@example.net"


def message(subject: str, body: str = "hello\r\n") -> str:
    return (f"From: Alice <{SENDER}>\r\nTo: {RCPT}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@t>\r\n\r\n{body}")


def send(port: int, subject: str, body: str = "hello\r\n") -> dict:
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=30) as client:
        return client.sendmail(SENDER, [RCPT], message(subject, body))


@pytest.fixture
def start_milter(mta_launcher):
    """start_milter(kind, *options) -> a started OpenDkim or TagMilter, stopped at teardown."""

    def start(kind, *options):
        return mta_launcher.launch(kind(mta_launcher.directory(kind.name), *options))

    return start


@pytest.fixture
def proxy_with(smtp_sink, filterd_factory):
    """proxy_with(smtpd_milters, **settings) -> filterd's proxy calling those milters, relaying to smtp-sink."""

    def start(milters: str, **settings: str):
        config = {"filterd_plugins": "milters", "smtpd_milters": milters, **settings}
        return filterd_factory(config, nexthop_port=smtp_sink.port)

    return start


def test_opendkim_signs_and_the_signature_verifies(start_milter, proxy_with, smtp_sink):
    opendkim = start_milter(OpenDkim)
    proxy = proxy_with(opendkim.socket)
    send(proxy.port, "signed mail", "line one\r\n\r\nline three\r\n")
    [dump] = smtp_sink.dumps()
    signed = dump.content.replace(b"\n", b"\r\n")
    assert signed.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=example.org;")
    record = opendkim.public_key_record()

    def dns(name, timeout=5):
        return record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None

    assert dkim.verify(signed, dnsfunc=dns)
    assert not dkim.verify(signed.replace(b"line three", b"line 3"), dnsfunc=dns)


def test_pymilter_adds_a_header_and_its_reject_reaches_the_client(start_milter, proxy_with, smtp_sink):
    milter = start_milter(TagMilter, "--header", "X-Pymilter: tagged", "--reject-word", "SPAM")
    proxy = proxy_with(milter.socket)
    with smtplib.SMTP("127.0.0.1", proxy.port, timeout=30) as client:
        client.sendmail(SENDER, [RCPT], message("fine"))
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail(SENDER, [RCPT], message("buy SPAM now"))
        client.sendmail(SENDER, [RCPT], message("fine again"))
    assert (refused.value.smtp_code, refused.value.smtp_error) == (550, b"5.7.1 Subject refused by pymilter")
    first, second = smtp_sink.dumps()
    assert first.content.split(b"\n\n")[0].endswith(b"Subject: fine\nMessage-ID: <fine@t>\nX-Pymilter: tagged")
    assert b"Subject: fine again" in second.content and b"X-Pymilter: tagged" in second.content
    assert f"reject: END-OF-MESSAGE from {CLIENT}: 550 5.7.1 Subject refused by pymilter;" in proxy.log()


def test_the_second_milter_sees_the_first_one_s_edits_and_both_apply(start_milter, proxy_with, smtp_sink):
    first = start_milter(TagMilter, "--header", "X-First: one")
    second = start_milter(TagMilter, "--header", "X-Second: two", "--seen", "X-First")
    proxy = proxy_with(f"{first.socket}, {{ {second.socket}, command_timeout=10s }}")
    send(proxy.port, "two milters")
    [dump] = smtp_sink.dumps()
    assert dump.content.split(b"\n\n")[0].endswith(b"X-First: one\nX-Second: two\nX-Saw-X-First: yes")


def test_sender_recipients_and_body_changed_by_a_milter(start_milter, proxy_with, smtp_sink):
    milter = start_milter(TagMilter, "--sender", "bounces@example.org", "--add-rcpt", "carol@example.net",
                          "--delete-rcpt", RCPT, "--body", "replaced\\nbody")
    proxy = proxy_with(milter.socket)
    send(proxy.port, "rewrite me", "original body\r\n")
    [dump] = smtp_sink.dumps()
    assert (dump.sender, dump.recipients) == ("bounces@example.org", ["carol@example.net"])
    assert dump.content.endswith(b"\n\nreplaced\nbody\n")


def test_a_milter_on_a_unix_socket(start_milter, proxy_with, smtp_sink):
    milter = start_milter(UnixTagMilter, "--header", "X-Pymilter: unix")
    proxy = proxy_with(milter.socket)
    send(proxy.port, "over a unix socket")
    [dump] = smtp_sink.dumps()
    assert b"X-Pymilter: unix" in dump.content


def test_a_milter_that_is_down_tempfails_by_default(proxy_with, smtp_sink):
    dead = f"inet:127.0.0.1:{free_port()}"
    proxy = proxy_with(dead)
    with smtplib.SMTP("127.0.0.1", proxy.port, timeout=30) as client:
        client.ehlo()
        assert client.mail(SENDER) == (451, b"4.7.1 Service unavailable - try again later")
    assert smtp_sink.received() == 0
    assert f"warning: connect to Milter service {dead}: Connection refused" in proxy.log()


def test_default_action_accept_delivers_as_if_the_milter_were_not_there(start_milter, proxy_with, smtp_sink):
    milter = start_milter(TagMilter, "--header", "X-Pymilter: tagged")
    dead = f"inet:127.0.0.1:{free_port()}"
    proxy = proxy_with(f"{{ {dead}, default_action=accept }}, {milter.socket}")
    send(proxy.port, "accepted anyway")
    [dump] = smtp_sink.dumps()
    assert b"X-Pymilter: tagged" in dump.content


def test_a_milter_that_dies_mid_session_gets_its_default_action(start_milter, proxy_with, smtp_sink):
    milter = start_milter(TagMilter, "--header", "X-Pymilter: tagged")
    proxy = proxy_with(milter.socket, milter_default_action="reject")
    with smtplib.SMTP("127.0.0.1", proxy.port, timeout=30) as client:
        client.sendmail(SENDER, [RCPT], message("before"))
        milter.kill()
        code, text = client.mail(SENDER)
    assert (code, text) == (550, b"5.5.0 Service unavailable")
    assert f"warning: milter {milter.socket}: can't read SMFIC_MAIL reply packet header: " in proxy.log()
    assert smtp_sink.received() == 1


def test_filterd_s_own_milter_listener_as_the_external_milter(filterd_factory, proxy_with, smtp_sink):
    """Header edits, REDIRECT (DELRCPT + ADDRCPT) and HOLD (QUARANTINE) through the milter protocol both ways."""
    port = free_port()
    filterd_factory({"filterd_listeners": f"milter:inet:127.0.0.1:{port}",
                     "filterd_plugins": "tests.fixtures.plugins.tag, tests.fixtures.plugins.reroute"}, port=port)
    proxy = proxy_with(f"inet:127.0.0.1:{port}")
    for subject in ("tag me", "REDIRECTME", "HOLDME", "after hold"):
        send(proxy.port, subject)
    tagged, redirected, held, after = smtp_sink.dumps()
    assert b"X-Filterd-Tag: tagged; lines=1" in tagged.content
    assert redirected.recipients == ["archive@example.net"]
    assert f"hold: END-OF-MESSAGE from {CLIENT}: milter triggers HOLD action;" in proxy.log()
    assert proxy.log().count("hold: ") == 1 and after.recipients == [RCPT]


@pytest.mark.parametrize("mapped", ["DISABLE", "second", "none"])
def test_smtpd_milter_maps_chooses_the_milters_by_client_address_as_postfix(
        start_milter, mta_launcher, smtp_sink_factory, filterd_factory, mapped):
    first = start_milter(TagMilter, "--header", "X-First: one")
    second = start_milter(TagMilter, "--header", "X-Second: two")
    table = mta_launcher.root / "milter_map"
    table.write_text({"DISABLE": "127.0.0.0/8 disable\n", "second": f"127.0.0.1 {second.socket}\n",
                      "none": "192.0.2.0/24 DISABLE\n"}[mapped])
    settings = {"smtpd_milters": first.socket, "smtpd_milter_maps": f"cidr:{table}"}
    headers = {}
    for name in ("postfix", "filterd"):
        sink = smtp_sink_factory()
        if name == "postfix":
            server = mta_launcher.launch(Postfix.relay(mta_launcher.directory("postfix"), sink.port, settings))
        else:
            server = filterd_factory({"filterd_plugins": "milters", **settings}, nexthop_port=sink.port)
        send(server.port, f"mapped {mapped}")
        sink.wait_for(1)
        headers[name] = [line for line in sink.dumps()[0].content.split(b"\n\n")[0].split(b"\n")
                         if line.startswith((b"X-First", b"X-Second"))]
    assert headers["filterd"] == headers["postfix"]
    assert headers["postfix"] == {"DISABLE": [], "second": [b"X-Second: two"], "none": [b"X-First: one"]}[mapped]
