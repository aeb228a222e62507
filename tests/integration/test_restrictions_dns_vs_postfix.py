"""The restrictions that ask the DNS (reject_unknown_sender_domain and _recipient_domain, reject_rhsbl_sender,
reject_rbl_client) in filterd's relay and in a real Postfix, both asking the same zone of the loopback DNS server:
the same replies.

Postfix's resolver asks port 53 only, so Postfix, its DNS server and the client that talks to it run in a network
namespace of their own (tests/netns.py); filterd asks the same zone served on a loopback port."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import Launcher, require_programs
from tests.dns_server import DnsServer
from tests.harness import REPO_ROOT, FilterdProcess, free_port, make_workdir, smtpd_listener
from tests.integration.test_restrictions_vs_postfix import COMMON, POSTFIX, session
from tests.netns import DnsServerInside, NetworkNamespace, PostfixInside

pytestmark = pytest.mark.integration

ZONE = {
    "exists.test": ["MX 10 mx.exists.test."],
    "aonly.test": ["A 192.0.2.1"],
    "nullmx.test": ["MX 0 .", "A 192.0.2.1"],
    "broken.test": ["A 192.0.2.1"],
    "spam.test": ["A 192.0.2.1"],
    "spam.test.rhsbl.test": ["A 127.0.0.2", 'TXT "domain listed"'],
    "quiet.test": ["A 192.0.2.1"],
    "quiet.test.rhsbl.test": ["A 127.0.0.2"],
    "1.0.0.127.bl.test": ["A 127.0.0.2", 'TXT "client listed"'],
}
FAILURES = {"broken.test MX": "servfail", "broken.test A": "servfail", "broken.test AAAA": "servfail"}
RESTRICTIONS = {
    "smtpd_sender_restrictions": "reject_unknown_sender_domain, reject_rhsbl_sender rhsbl.test",
    "smtpd_recipient_restrictions": "check_recipient_access inline:{ {rbl@local.example=reject_rbl_client bl.test}, "
                                    "{other@local.example=reject_rbl_client bl.test=127.0.0.9} }, "
                                    "reject_unknown_recipient_domain",
    "relay_domains": "exists.test nullmx.test nx.test broken.test",
}
SENDERS = ["<a@exists.test>", "<a@aonly.test>", "<a@nullmx.test>", "<a@nx.test>", "<a@broken.test>",
           "<a@spam.test>", "<a@quiet.test>", "<>", "<a@local.example>"]
MATRIX = ([(sender, "<user@local.example>") for sender in SENDERS]
          + [("<a@broken.test>", "<user@foreign.example>")]
          + [("<a@exists.test>", rcpt) for rcpt in ("<rbl@local.example>", "<other@local.example>", "<b@exists.test>",
                                                    "<b@nullmx.test>", "<b@nx.test>", "<b@broken.test>")])
CLIENT = ("import json, sys; from tests.integration.test_restrictions_vs_postfix import session; "
          "print(json.dumps(session(int(sys.argv[1]), *sys.argv[2:])))")
"""The same session as filterd gets, from inside the namespace."""


@pytest.fixture(scope="module")
def servers():
    """(Postfix in its namespace, filterd, the namespace)."""
    require_programs()
    launcher = Launcher(make_workdir("filterd-restrictions-dns-"))
    try:
        with DnsServer(ZONE, FAILURES) as dns:
            netns = launcher.launch(NetworkNamespace(launcher.directory("netns")))
            launcher.launch(DnsServerInside(launcher.directory("dns"), netns, ZONE, FAILURES))
            postfix = PostfixInside(launcher.directory("postfix"), netns, {**COMMON, **POSTFIX, **RESTRICTIONS})
            postfix.listeners, postfix.ports = [smtpd_listener(port := free_port())], [port]
            launcher.launch(postfix)
            port = free_port()
            filterd = launcher.launch(FilterdProcess(launcher.directory("filterd"), {
                **COMMON, **RESTRICTIONS, "filterd_listeners": f"relay:127.0.0.1:{port}",
                "filterd_dns_servers": dns.address, "filterd_dns_timeout": "1s"}, port=port))
            yield postfix, filterd, netns
    finally:
        launcher.stop_all()


def inside(netns: NetworkNamespace, port: int, sender: str, recipient: str) -> list[str]:
    """The session's replies, sent from inside the namespace."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(netns.enter([sys.executable, "-c", CLIENT, str(port), "client.example", sender, recipient]),
                          capture_output=True, text=True, env=env, timeout=60, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(("sender", "recipient"), MATRIX)
def test_replies_are_postfix_s(servers, sender, recipient):
    postfix, filterd, netns = servers
    ours = session(filterd.port, "client.example", sender, recipient)
    assert ours == inside(netns, postfix.port, sender, recipient)
