"""smtp_sasl_*: filterd's relay logging in to a smarthost, a real Postfix that relays only for authenticated
clients (its AUTH through a real Dovecot): the mail delivered with the smarthost logging the user; a wrong password
deferred with Postfix's reason (soft bounce), retried after the table is fixed, delivered once; noplaintext
without TLS leaves no mechanism; a next hop with no credentials sends without AUTH (and is refused)."""

from __future__ import annotations

import re
import smtplib

import pytest

from tests.conftest import launched
from tests.fixtures.dovecot import Dovecot
from tests.harness import HOST, FilterdProcess, Postfix, SmtpSink, free_port, wait_until

SMARTHOST = {"smtpd_sasl_auth_enable": "yes", "smtpd_sasl_type": "dovecot", "mynetworks": "192.0.2.0/24",
             "smtpd_relay_restrictions": "permit_sasl_authenticated, reject_unauth_destination",
             "smtpd_error_sleep_time": "0"}


@pytest.fixture(scope="module")
def smarthost():
    with launched("filterd-smtp-sasl-") as launcher:
        dovecot = launcher.launch(Dovecot(launcher.directory("dovecot")))
        sink = launcher.launch(SmtpSink(launcher.directory("sink")))
        postfix = launcher.launch(Postfix.relay(launcher.directory("smarthost"), sink.port, {
            **SMARTHOST, "smtpd_sasl_path": dovecot.inet_path}))
        yield {"launcher": launcher, "postfix": postfix, "sink": sink}


def relay(smarthost, name: str, password: str, **settings: str) -> tuple[FilterdProcess, object]:
    launcher = smarthost["launcher"]
    table = launcher.root / f"sasl_passwd-{name}"
    table.write_text(f"[{HOST}]:{smarthost['postfix'].port} alice:{password}\n")
    port = free_port()
    filterd = launcher.launch(FilterdProcess(launcher.directory(f"filterd-{name}"), {
        "filterd_listeners": f"relay:{HOST}:{port}", "relayhost": f"[{HOST}]:{smarthost['postfix'].port}",
        "smtp_dns_support_level": "disabled", "smtp_sasl_auth_enable": "yes",
        "smtp_sasl_password_maps": f"texthash:{table}", "smtp_sasl_security_options": "noanonymous",
        "queue_run_delay": "1s", "minimal_backoff_time": "1s", "maximal_backoff_time": "2s", **settings},
        port=port))
    return filterd, table


def send(filterd: FilterdProcess, subject: str) -> None:
    with smtplib.SMTP(HOST, filterd.port, local_hostname="client.example") as client:
        client.sendmail("a@example.org", ["b@example.net"], f"Subject: {subject}\r\n\r\nhello\r\n")


def delivered(sink, subject: str) -> int:
    """How many messages with this subject smtp-sink holds (raw dumps: one being written is not parsed)."""
    return sum(f"Subject: {subject}".encode() in raw for raw in sink.messages())


def test_the_relay_logs_in_and_the_smarthost_relays(smarthost):
    filterd, _ = relay(smarthost, "good", "secret")
    send(filterd, "authenticated")
    wait_until(lambda: delivered(smarthost["sink"], "authenticated"), 30, "the message at the sink")
    wait_until(lambda: "sasl_method=PLAIN, sasl_username=alice" in smarthost["postfix"].maillog(), 10,
               "the smarthost's client= line")
    assert "status=sent" in filterd.log()


def test_a_refused_login_defers_with_postfix_s_reason_and_a_fixed_table_delivers_once(smarthost):
    filterd, table = relay(smarthost, "wrong", "wrong")
    send(filterd, "retried")
    port = smarthost["postfix"].port
    server = f"{HOST}[{HOST}]"
    reason = (re.escape(f"relay={server}:{port}, ") + ".* dsn=4.7.8, status=deferred " + re.escape(
        f"(SASL authentication failed; server {server} said: 535 5.7.8 Error: authentication failed:"))
    wait_until(lambda: re.search(reason, filterd.log()), 30, "the deferral")
    table.write_text(table.read_text().replace(":wrong", ":secret"))
    filterd.stop()
    filterd.start()
    wait_until(lambda: delivered(smarthost["sink"], "retried"), 60, "the retried message")
    assert delivered(smarthost["sink"], "retried") == 1


def test_noplaintext_without_tls_leaves_no_mechanism(smarthost):
    filterd, _ = relay(smarthost, "plaintext", "secret", smtp_sasl_security_options="noplaintext, noanonymous")
    send(filterd, "no mechanism")
    wait_until(lambda: "cannot authenticate to server" in filterd.log(), 30, "the deferral")
    assert "no mechanism available" in filterd.log() and "dsn=4.7.0" in filterd.log()


def test_without_credentials_the_mail_goes_without_auth(smarthost):
    filterd, table = relay(smarthost, "nobody", "secret")
    table.write_text("[other.example]:587 alice:secret\n")
    filterd.stop()
    filterd.start()
    send(filterd, "anonymous")
    wait_until(lambda: "Relay access denied" in filterd.log(), 30, "the smarthost's refusal")
    assert "status=bounced" in filterd.log()
