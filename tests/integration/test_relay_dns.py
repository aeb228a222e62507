"""Relay mode's delivery through the loopback DNS server (tests/dns_server.py): each DNS outcome deferred, bounced
or delivered, logged with Postfix's dsn and text (postfix/src/smtp/smtp_addr.c, src/dns/dns_lookup.c).

Every test domain but one is routed by transport_maps to `smtp:DOMAIN:PORT`, an MX lookup whose hosts are tried on
the smtp-sink's port (Postfix's syntax for MX delivery to another port); the MX hosts' addresses are loopback
ones: 127.0.0.1 where the sink listens, 127.0.0.2 and 127.0.0.3 where nothing does. The last goes to a relayhost
that does not exist.
"""

from __future__ import annotations

import re
import shutil
import smtplib
import subprocess
from collections.abc import Iterator

import pytest

from tests.conftest import Launcher, require_programs
from tests.dns_server import DnsServer
from tests.harness import FilterdProcess, SmtpSink, free_port, make_workdir, wait_until
from tests.netns import DnsServerInside, NetworkNamespace, PostfixInside, SmtpSinkInside

pytestmark = pytest.mark.integration

NOT_FOUND = "Host or domain name not found. Name service error for name={} type={}: {}"
ZONE = {
    "servfail.test": ["A 127.0.0.1"],
    "timeout.test": ["A 127.0.0.1"],
    "nullmx.test": ["MX 0 .", "A 127.0.0.1"],
    "plain.test": ["A 127.0.0.1"],
    "pref.test": ["MX 20 second.pref.test.", "MX 10 first.pref.test."],
    "first.pref.test": ["A 127.0.0.1"],
    "second.pref.test": ["A 127.0.0.2"],
    "dead.test": ["MX 10 a.dead.test.", "MX 20 b.dead.test."],
    "a.dead.test": ["A 127.0.0.2"],
    "b.dead.test": ["A 127.0.0.3"],
    "noaddr.test": ["MX 10 gone.noaddr.test.", "MX 20 ok.noaddr.test."],
    "ok.noaddr.test": ["A 127.0.0.1"],
    "allgone.test": ["MX 10 gone.allgone.test."],
    "mxfail.test": ["MX 10 mx.mxfail.test."],
    "tc.test": ["MX 10 mx.tc.test."],
    "mx.tc.test": ["A 127.0.0.1"],
    "loop.test": ["MX 10 mx.self.test.", "MX 20 a.dead.test."],
    "mx.self.test": ["A 127.0.0.1"],
    "noprimary.test": ["MX 10 gone.noprimary.test.", "MX 20 mx.self.test."],
    "selfhost.test": ["A 127.0.0.1"],
}
FAILURES = {"servfail.test MX": "servfail", "timeout.test MX": "timeout", "mx.mxfail.test": "servfail",
            "tc.test MX": "truncate"}
LOOPS = ["loop.test", "noprimary.test", "selfhost.test"]
"""Domains whose best MX host, or whose address, is this mail system's (127.0.0.1) on port 25: never connected
to (`mail for DOMAIN loops back to myself`, or `unable to find primary relay` for a backup MX)."""
ROUTED = [*(name for name in ZONE if name.count(".") == 1 and name not in LOOPS), "nxdomain.test"]
"""The domains that transport_maps sends to their MX hosts on the sink's port; viarelay.test goes to the relayhost,
which does not exist."""
DOMAINS = [*ROUTED, *LOOPS, "viarelay.test"]


MESSAGE = "From: alice@localhost\r\nSubject: dns\r\nMessage-ID: <dns@test>\r\n\r\nhello\r\n"
"""Sent from the null sender: no bounce to deliver afterwards."""


def send(port: int, recipients: list[str]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail("", recipients, MESSAGE)


@pytest.fixture(scope="module")
def launcher() -> Iterator[Launcher]:
    """The services of this module's tests, started once: every test reads the same deliveries."""
    require_programs()
    workdir = make_workdir("filterd-relay-dns-")
    launcher = Launcher(workdir)
    yield launcher
    launcher.stop_all()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def sink(launcher) -> SmtpSink:
    return launcher.launch(SmtpSink(launcher.directory("sink")))


@pytest.fixture(scope="module")
def delivered(launcher, sink) -> Iterator[tuple[str, list[str]]]:
    """One message to a recipient at each test domain, through a relay that asks the loopback DNS server;
    gives the relay's log once every recipient is logged, and the recipients the sink received."""
    with DnsServer(ZONE, FAILURES) as server:
        routes = ", ".join([*(f"{domain}=smtp:{domain}:{sink.port}" for domain in ROUTED),
                            *(f"{domain}=smtp:{domain}" for domain in LOOPS)])
        port = free_port()
        relay = launcher.launch(FilterdProcess(launcher.directory("filterd"), {
            "filterd_listeners": f"relay:127.0.0.1:{port}",
            "filterd_dns_servers": server.address, "filterd_dns_timeout": "1s", "inet_protocols": "ipv4",
            "transport_maps": f"inline:{{ {routes} }}", "relayhost": f"relaynx.test:{sink.port}",
            "queue_run_delay": "1h", "minimal_backoff_time": "1h",
            "maximal_backoff_time": "2h"}, port=port))
        send(port, [f"user@{domain}" for domain in DOMAINS])
        wait_until(lambda: all(f"to=<user@{d}>" in relay.log() for d in DOMAINS), 60, "every recipient logged")
        sink.wait_for(4)
        yield relay.log(), sorted(rcpt for dump in sink.dumps() for rcpt in dump.recipients)


def status(log: str, domain: str) -> tuple[str, str, str, str]:
    """(relay, dsn, status, text) of the smtp line for user@domain."""
    [match] = re.findall(rf"to=<user@{re.escape(domain)}>, relay=(\S+), delay=\S+, delays=\S+, dsn=(\S+), "
                         rf"status=(\w+) \((.*)\)$", log, re.M)
    return match


def test_a_temporary_mx_failure_defers_instead_of_using_the_address(delivered):
    log, _ = delivered
    for domain in ("servfail.test", "timeout.test"):
        assert status(log, domain) == \
            ("none", "4.4.3", "deferred", NOT_FOUND.format(domain, "MX", "Host not found, try again"))


def test_a_domain_that_does_not_exist_bounces(delivered):
    assert status(delivered[0], "nxdomain.test") == \
        ("none", "5.4.4", "bounced", NOT_FOUND.format("nxdomain.test", "A", "Host not found"))


def test_a_null_mx_bounces(delivered):
    assert status(delivered[0], "nullmx.test") == \
        ("none", "5.1.0", "bounced", "Domain nullmx.test does not accept mail (nullMX)")


def test_delivery_to_the_address_of_a_domain_without_mx_to_the_best_mx_and_past_a_host_without_address(
        delivered, sink):
    log, recipients = delivered
    for domain, host in (("plain.test", "plain.test"), ("pref.test", "first.pref.test"),
                         ("noaddr.test", "ok.noaddr.test")):
        assert status(log, domain)[:3] == (f"{host}[127.0.0.1]:{sink.port}", "2.0.0", "sent")
    assert recipients == ["user@noaddr.test", "user@plain.test", "user@pref.test", "user@tc.test"]


def test_a_truncated_mx_answer_is_asked_again_over_tcp(delivered, sink):
    assert status(delivered[0], "tc.test")[:3] == (f"mx.tc.test[127.0.0.1]:{sink.port}", "2.0.0", "sent")


def test_mx_hosts_all_unreachable_defer_with_each_failure_logged(delivered, sink):
    log, _ = delivered
    refused = "connect to {}[{}]:%d: Connection refused" % sink.port
    assert refused.format("a.dead.test", "127.0.0.2") in log
    assert status(log, "dead.test") == ("none", "4.4.1", "deferred", refused.format("b.dead.test", "127.0.0.3"))


def test_a_relayhost_that_does_not_exist_is_a_configuration_problem_that_defers(delivered):
    log, _ = delivered
    assert status(log, "viarelay.test") == \
        ("none", "4.3.5", "deferred", NOT_FOUND.format("relaynx.test", "A", "Host not found"))
    assert "warning: relayhost configuration problem" in log


def test_mx_hosts_without_address_bounce_or_defer_by_the_kind_of_failure(delivered):
    log, _ = delivered
    assert status(log, "allgone.test") == \
        ("none", "5.4.4", "bounced", NOT_FOUND.format("gone.allgone.test", "A", "Host not found"))
    assert "warning: no MX host for allgone.test has a valid address record" in log
    assert status(log, "mxfail.test") == \
        ("none", "4.4.3", "deferred", NOT_FOUND.format("mx.mxfail.test", "A", "Host not found, try again"))


def test_mail_for_this_mail_system_on_port_25_loops_back_without_a_connection(delivered):
    log, _ = delivered
    assert status(log, "loop.test") == ("none", "5.4.6", "bounced", "mail for loop.test loops back to myself")
    assert status(log, "selfhost.test") == ("none", "5.4.6", "bounced", "mail for selfhost.test loops back to myself")
    assert status(log, "noprimary.test") == \
        ("none", "4.4.4", "deferred", "unable to find primary relay for noprimary.test")
    assert ":25:" not in log


@pytest.fixture(scope="module")
def postfix_log(launcher, sink) -> str:
    """The same message through a private Postfix asking the same zone: Postfix, its smtp-sink (on the same port
    number) and the DNS server run in a network namespace of their own, where the DNS server answers on port 53
    of the address /etc/resolv.conf names (Postfix's resolver knows no other port)."""
    netns = launcher.launch(NetworkNamespace(launcher.directory("netns")))
    launcher.launch(DnsServerInside(launcher.directory("dns"), netns, ZONE, FAILURES))
    launcher.launch(SmtpSinkInside(launcher.directory("sink-inside"), netns, sink.port))
    routes = ", ".join([*(f"{domain}=smtp:{domain}:{sink.port}" for domain in ROUTED),
                        *(f"{domain}=smtp:{domain}" for domain in LOOPS)])
    postfix = launcher.launch(PostfixInside(launcher.directory("postfix"), netns, {
        "smtp_dns_support_level": "enabled", "transport_maps": f"inline:{{ {routes} }}",
        "relayhost": f"relaynx.test:{sink.port}",
        "queue_run_delay": "1h", "minimal_backoff_time": "1h", "maximal_backoff_time": "2h"}))
    subprocess.run(["sendmail", "-C", str(postfix.config_dir), "-f", "<>", *(f"user@{d}" for d in DOMAINS)],
                   input=MESSAGE.encode(), check=True, timeout=30)
    return wait_until(lambda: all(f"to=<user@{d}>" in postfix.maillog() for d in DOMAINS) and postfix.maillog(), 60,
                      "every recipient logged by Postfix")


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_outcome_is_postfixs(delivered, postfix_log, domain):
    assert status(delivered[0], domain) == status(postfix_log, domain)


def test_the_warnings_and_failed_connections_are_postfixs(delivered, postfix_log):
    lines = ["no MX host for allgone.test has a valid address record", "connect to a.dead.test[127.0.0.2]:",
             "warning: relayhost configuration problem"]
    for line in lines:
        assert (line in delivered[0], line in postfix_log) == (True, True)
