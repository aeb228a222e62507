"""The restrictions that ask the DNS (reject_unknown_sender_domain and _recipient_domain, reject_rhsbl_sender,
reject_rbl_client, reject_rhsbl_client, _reverse_client, _helo and _recipient, reject_unknown_helo_hostname,
reject_unknown_client_hostname and _reverse_client_hostname; and check_reverse_client_hostname_access and
permit_inet_interfaces, which want clients at several addresses) in
filterd's relay and in a real Postfix, both asking the same zone of the same DNS server: the same replies, and the
same NOQUEUE lines and name lookup warnings in their logs.

Postfix's resolver asks port 53 only, so Postfix, filterd, their DNS server and the client that talks to them run in
a network namespace of their own (tests/netns.py). The client connects from several loopback addresses, each with
its own reverse and forward records: a confirmed name, a forged one, none, failures."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import pytest

from tests.conftest import Launcher, require_programs
from tests.harness import REPO_ROOT, free_port, make_workdir, smtpd_listener, wait_until
from tests.integration.test_restrictions_vs_postfix import COMMON, POSTFIX
from tests.netns import DnsServerInside, FilterdInside, NetworkNamespace, PostfixInside

pytestmark = pytest.mark.integration

MX_BACKUP_ZONE = {
    "mx.self.test": ["A 127.0.0.1"],
    "primary.backup.test": ["A 192.0.2.50"],
    "backup.test": ["MX 10 primary.backup.test.", "MX 20 mx.self.test."],
    "primary.test": ["MX 10 mx.self.test.", "MX 20 primary.backup.test."],
    "only.test": ["MX 10 mx.self.test."],
    "primary.net.test": ["A 10.1.2.3"],
    "backupnet.test": ["MX 10 primary.net.test.", "MX 20 mx.self.test."],
    "backupbroken.test": ["MX 10 gone.test.", "MX 20 mx.self.test."],
    "backupname.test": ["MX 10 primary.backup.test.", "MX 20 local.example."],
    "noaddr.test": ["MX 10 mx.exists.test."],
    "backupnodata.test": ["MX 10 noaddr.test.", "MX 20 mx.self.test."],
    "backupslow.test": ["MX 10 slow.test.", "MX 20 mx.self.test."],
    "elsewhere.test": ["MX 10 primary.backup.test."],
}
"""Domains whose MX hosts name this host (mx.self.test, at 127.0.0.1: both servers listen on inet_interfaces' loopback
address) or not, for permit_mx_backup."""
MX_BACKUP_DOMAINS = ["backup.test", "primary.test", "only.test", "backupnet.test", "backupbroken.test",
                     "backupname.test", "backupmxfail.test", "backupnodata.test", "backupslow.test", "elsewhere.test",
                     "nullmx.test", "nx.test", "[192.0.2.1]"]
ZONE = {
    "exists.test": ["MX 10 mx.exists.test."],
    "aonly.test": ["A 192.0.2.1"],
    "mxonly.test": ["MX 10 mx.exists.test."],
    "nullmx.test": ["MX 0 .", "A 192.0.2.1"],
    "nullmxonly.test": ["MX 0 ."],
    "broken.test": ["A 192.0.2.1"],
    "spam.test": ["A 192.0.2.1"],
    "spam.test.rhsbl.test": ["A 127.0.0.2", 'TXT "domain listed"'],
    "quiet.test": ["A 192.0.2.1"],
    "quiet.test.rhsbl.test": ["A 127.0.0.2"],
    "1.0.0.127.bl.test": ["A 127.0.0.2", 'TXT "client listed"'],
    "good.test.rhsbl.test": ["A 127.0.0.2", 'TXT "name listed"'],
    "forged.test.rhsbl.test": ["A 127.0.0.2"],
    "10.0.0.127.in-addr.arpa": ["PTR good.test."],
    "good.test": ["A 127.0.0.10"],
    "11.0.0.127.in-addr.arpa": ["PTR forged.test."],
    "forged.test": ["A 192.0.2.1"],
    "13.0.0.127.in-addr.arpa": ["PTR tempforward.test."],
    "tempforward.test": ["A 127.0.0.13"],
    "14.0.0.127.in-addr.arpa": ["PTR noforward.test."],
    "15.0.0.127.in-addr.arpa": ["PTR 127.0.0.15."],
    "mx.exists.test": ["A 192.0.2.20"],
    "nsd.test": ["NS ns1.nsd.test.", "A 192.0.2.31"],
    "ns1.nsd.test": ["A 192.0.2.30"],
    "sub.nsd.test": ["A 192.0.2.31"],
    "mxaddr.test": ["MX 10 mail.mxaddr.test."],
    "mail.mxaddr.test": ["A 192.0.2.40"],
    **MX_BACKUP_ZONE,
    "1.0.0.127.wl.test": ["A 127.0.5.3"],
    "good.test.wl.test": ["A 127.0.0.2"],
}
FAILURES = {"backupmxfail.test MX": "servfail", "12.0.0.127.wl.test": "servfail", "slow.test": "servfail",
           "broken.test MX": "servfail", "broken.test A": "servfail", "broken.test AAAA": "servfail",
            "12.0.0.127.in-addr.arpa": "servfail", "tempforward.test": "servfail"}
CLIENTS = {"127.0.0.10": "a confirmed name", "127.0.0.11": "a name that resolves elsewhere",
           "127.0.0.12": "a reverse lookup that fails for now", "127.0.0.13": "a forward lookup that fails for now",
           "127.0.0.14": "a name that does not resolve", "127.0.0.15": "a numeric name",
           "127.0.0.16": "no name"}
SERVERS = ("inline:{ {mx.exists.test=REJECT MX host listed}, {192.0.2.1=REJECT address listed}, "
           "{ns1.nsd.test=REJECT NS host listed}, {192.0.2.40=450 4.7.9 mail host address listed}, "
           "{127.0.0.10=REJECT client address listed}, {192.0.2.31=DUNNO}, {127.0.0.1=REJECT literal listed}, "
           "{192.0.2.20=OK} }")
"""One table for the check_*_{a,mx,ns}_access restrictions: MX and NS hosts by name, server addresses, an OK."""
SERVER_KINDS = {"client": "client", "rev": "reverse_client_hostname", "helo": "helo", "sender": "sender",
                "recipient": "recipient"}
SERVER_CLASSES = {f"{kind}{record}": f"check_{name}_{record}_access {SERVERS}"
                  for kind, name in SERVER_KINDS.items() for record in ("a", "mx", "ns")}
"""A restriction class for each, named for it (heloa, helomx, ...), chosen by the recipient."""
LIST_CLASSES = {
    "dnswl": "permit_dnswl_client wl.test, reject",
    "dnswlrange": "permit_dnswl_client wl.test=127.0.[0..9].[2;3], reject",
    "dnswlmiss": "permit_dnswl_client wl.test=127.0.0.[4..255], reject", "rhswl": "permit_rhswl_client wl.test, reject",
    "rhswlmiss": "permit_rhswl_client wl.test=127.0.0.3, reject",
    "rblrange": "reject_rbl_client bl.test=127.0.0.[1..3]", "rblmiss": "reject_rbl_client bl.test=127.0.[1..9].0",
    "rhsblrange": "reject_rhsbl_client rhsbl.test=127.[0;1].0.[2..2]",
}
"""DNS allow lists (a failing one defers the reject after it) and the lists' reply filters, each a restriction
class the recipient chooses."""
RESTRICTIONS = {
    "smtpd_sender_restrictions": "reject_unknown_sender_domain, reject_rhsbl_sender rhsbl.test",
    "smtpd_recipient_restrictions": "check_recipient_access inline:{ {rbl@local.example=reject_rbl_client bl.test}, "
                                    "{other@local.example=reject_rbl_client bl.test=127.0.0.9}, "
                                    "{hostname@local.example=reject_unknown_client_hostname}, "
                                    "{reverse@local.example=reject_unknown_reverse_client_hostname}, "
                                    "{helo@local.example=reject_unknown_helo_hostname}, "
                                    "{helostrict@local.example=reject_unknown_helo_hostname reject}, "
                                    "{interfaces@local.example=permit_inet_interfaces reject}, "
                                    "{rhsbl@local.example=reject_rhsbl_client rhsbl.test}, "
                                    "{reversebl@local.example=reject_rhsbl_reverse_client rhsbl.test}, "
                                    "{rhsblhelo@local.example=reject_rhsbl_helo rhsbl.test}, "
                                    "{b@spam.test=reject_rhsbl_recipient rhsbl.test}, "
                                    "{reverseaccess@local.example=reverse_access}, "
                                    + ", ".join(f"{{{name}@={name}}}" for name in (*SERVER_CLASSES, *LIST_CLASSES))
                                    + " }, "
                                    "reject_unknown_recipient_domain",
    "relay_domains": "exists.test nullmx.test nx.test broken.test spam.test aonly.test sub.nsd.test",
    "unknown_helo_hostname_tempfail_action": "defer",
    "smtpd_relay_restrictions": "permit_mynetworks, check_recipient_access inline:{ {wlrelay@=permit_dnswl_client "
                                "wl.test} }, permit_mx_backup, reject_unauth_destination",
    "permit_mx_backup_networks": "192.0.2.0/24",
    "smtpd_restriction_classes": "reverse_access " + " ".join(SERVER_CLASSES) + " " + " ".join(LIST_CLASSES),
    **SERVER_CLASSES,
    **LIST_CLASSES,
    "reverse_access": "check_reverse_client_hostname_access inline:{ {forged.test=REJECT Forged}, {good.test=OK} }",
}
SERVER_NAMES = ["exists.test", "mx.exists.test", "aonly.test", "mxaddr.test", "nullmx.test", "nsd.test", "sub.nsd.test",
                "nx.test",
                "broken.test", "[127.0.0.1]", "[192.0.2.1]", "192.0.2.1", "[IPv6:::1]"]
"""HELO names and sender domains whose A, MX and NS hosts the table is asked about."""
SENDERS = ["<a@exists.test>", "<a@aonly.test>", "<a@nullmx.test>", "<a@nx.test>", "<a@broken.test>",
           "<a@spam.test>", "<a@quiet.test>", "<>", "<a@local.example>"]
HELOS = ["exists.test", "aonly.test", "mxonly.test", "nullmxonly.test", "nx.test", "broken.test", "[127.0.0.1]",
         "[300.1.1.1]", "[IPv6:::1]", "bad_helo!", "trailing.dot.test.", "192.0.2.1"]
MATRIX = ([("127.0.0.1", "client.example", sender, "<user@local.example>") for sender in SENDERS]
          + [("127.0.0.1", "client.example", "<a@broken.test>", "<user@foreign.example>")]
          + [("127.0.0.1", "client.example", "<a@exists.test>", rcpt)
             for rcpt in ("<rbl@local.example>", "<other@local.example>", "<b@exists.test>", "<b@nullmx.test>",
                          "<b@nx.test>", "<b@broken.test>")]
          + [(client, "client.example", "<a@exists.test>", rcpt) for client in CLIENTS
             for rcpt in ("<hostname@local.example>", "<reverse@local.example>")]
          + [("127.0.0.1", helo, "<a@exists.test>", "<helo@local.example>") for helo in HELOS]
          + [(client, "client.example", "<a@exists.test>", "<interfaces@local.example>")
             for client in ("127.0.0.1", "127.0.0.10")]
          + [(client, "client.example", "<a@exists.test>", rcpt) for client in ("127.0.0.10", "127.0.0.11", "127.0.0.16")
             for rcpt in ("<rhsbl@local.example>", "<reversebl@local.example>", "<reverseaccess@local.example>")]
          + [("127.0.0.1", helo, "<a@exists.test>", "<rhsblhelo@local.example>")
             for helo in ("spam.test", "quiet.test", "exists.test", "[127.0.0.1]")]
          + [("127.0.0.1", "client.example", "<a@exists.test>", "<b@spam.test>")]
          + [("127.0.0.1", helo, "<a@exists.test>", "<helostrict@local.example>") for helo in ("broken.test", "nx.test")]
          + [("127.0.0.1", "nx.test", "<a@nx.test>", "<helo@local.example>"),
             ("127.0.0.1", "broken.test", "<a@nx.test>", "<helo@local.example>")]
          + [("127.0.0.1", helo, "<a@exists.test>", f"<helo{record}@local.example>") for record in ("a", "mx", "ns")
             for helo in SERVER_NAMES]
          + [("127.0.0.1", "client.example", f"<a@{domain}>", f"<sender{record}@local.example>")
             for record in ("a", "mx", "ns") for domain in SERVER_NAMES if not domain.startswith("1")]
          + [("127.0.0.1", "client.example", "<a@exists.test>", f"<recipient{record}@{domain}>")
             for record in ("a", "mx", "ns") for domain in ("exists.test", "aonly.test", "sub.nsd.test")]
          + [("127.0.0.1", "client.example", "<a@exists.test>", f"<u@{domain}>") for domain in MX_BACKUP_DOMAINS]
          + [(client, "client.example", "<a@exists.test>", f"<{name}@local.example>")
             for client in ("127.0.0.1", "127.0.0.10", "127.0.0.11", "127.0.0.12") for name in LIST_CLASSES]
          + [("127.0.0.1", "client.example", "<a@exists.test>", "<wlrelay@foreign.example>")]
          + [(client, "client.example", "<a@exists.test>", f"<{kind}{record}@local.example>")
             for client in ("127.0.0.10", "127.0.0.11", "127.0.0.16") for kind in ("client", "rev")
             for record in ("a", "mx", "ns")])
CLIENT = ("import json, sys; from tests.integration.test_restrictions_dns_vs_postfix import conversation; "
          "print(json.dumps([conversation(int(sys.argv[1]), *session) for session in json.loads(sys.argv[2])]))")
"""Sessions run from inside the namespace: [[client address, HELO, sender, recipient], ...] -> their replies."""


@pytest.fixture(scope="module")
def servers():
    """(Postfix, filterd, the namespace), all three asking the namespace's DNS server."""
    require_programs()
    launcher = Launcher(make_workdir("filterd-restrictions-dns-"))
    try:
        netns = launcher.launch(NetworkNamespace(launcher.directory("netns")))
        launcher.launch(DnsServerInside(launcher.directory("dns"), netns, ZONE, FAILURES))
        postfix = PostfixInside(launcher.directory("postfix"), netns, {**COMMON, **POSTFIX, **RESTRICTIONS})
        postfix.listeners, postfix.ports = [smtpd_listener(port := free_port())], [port]
        launcher.launch(postfix)
        port = free_port()
        filterd = launcher.launch(FilterdInside(launcher.directory("filterd"), netns, {
            **COMMON, **RESTRICTIONS, "filterd_listeners": f"relay:127.0.0.1:{port}", "filterd_dns_timeout": "1s"},
            port=port))
        yield postfix, filterd, netns
    finally:
        launcher.stop_all()


def conversation(port: int, client: str, helo: str, sender: str, recipient: str) -> list[str]:
    """The replies to EHLO (its status line), MAIL and RCPT, from a client at address `client`."""
    with socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(client, 0)) as sock:
        lines = sock.makefile("rb")

        def send(line: str | None) -> str:
            if line is not None:
                sock.sendall(line.encode() + b"\r\n")
            reply = []
            while not reply or reply[-1][3:4] == "-":
                reply.append(lines.readline().decode("utf-8", "replace").rstrip("\r\n"))
            return "\n".join(reply)

        send(None)
        replies = [send(f"EHLO {helo}").splitlines()[0][:3], send(f"MAIL FROM:{sender}")]
        replies.append(send(f"RCPT TO:{recipient}") if replies[-1].startswith("250") else "")
        send("QUIT")
        return replies


def inside(netns: NetworkNamespace, port: int, sessions: list[tuple[str, ...]]) -> list[list[str]]:
    """The sessions' replies, each from its client address inside the namespace."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(netns.enter([sys.executable, "-c", CLIENT, str(port), json.dumps(sessions)]),
                          capture_output=True, text=True, env=env, timeout=300, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def replies(servers):
    """{server: every session's replies}, the matrix run once against each."""
    postfix, filterd, netns = servers
    return {"postfix": inside(netns, postfix.port, MATRIX), "filterd": inside(netns, filterd.port, MATRIX)}


@pytest.mark.parametrize("index", range(len(MATRIX)), ids=["/".join(session) for session in MATRIX])
def test_replies_are_postfix_s(replies, index):
    assert replies["filterd"][index] == replies["postfix"][index]


def test_the_new_restrictions_reply_as_postfix_documents(replies):
    by_session = dict(zip(MATRIX, replies["filterd"]))
    assert by_session["127.0.0.10", "client.example", "<a@exists.test>", "<hostname@local.example>"][2] == \
        "250 2.1.5 Ok"
    assert by_session["127.0.0.11", "client.example", "<a@exists.test>", "<hostname@local.example>"][2] == \
        "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.11]"
    assert by_session["127.0.0.11", "client.example", "<a@exists.test>", "<reverse@local.example>"][2] == \
        "250 2.1.5 Ok"
    assert by_session["127.0.0.16", "client.example", "<a@exists.test>", "<reverse@local.example>"][2] == \
        "450 4.7.1 Client host rejected: cannot find your reverse hostname, [127.0.0.16]"
    assert by_session["127.0.0.1", "nx.test", "<a@exists.test>", "<helo@local.example>"][2] == \
        "450 4.7.1 <nx.test>: Helo command rejected: Host not found"
    assert by_session["127.0.0.1", "broken.test", "<a@exists.test>", "<helostrict@local.example>"][2] == \
        "450 4.7.1 <broken.test>: Helo command rejected: Host not found"
    assert by_session["127.0.0.1", "client.example", "<a@exists.test>", "<interfaces@local.example>"][2] == \
        "250 2.1.5 Ok"
    assert by_session["127.0.0.10", "client.example", "<a@exists.test>", "<interfaces@local.example>"][2] == \
        "554 5.7.1 <interfaces@local.example>: Recipient address rejected: Access denied"
    assert by_session["127.0.0.10", "client.example", "<a@exists.test>", "<rhsbl@local.example>"][2] == \
        "554 5.7.1 Service unavailable; Client host [good.test] blocked using rhsbl.test; name listed"
    assert by_session["127.0.0.11", "client.example", "<a@exists.test>", "<rhsbl@local.example>"][2] == \
        "250 2.1.5 Ok"
    assert by_session["127.0.0.11", "client.example", "<a@exists.test>", "<reversebl@local.example>"][2] == \
        "554 5.7.1 Service unavailable; Unverified Client host [forged.test] blocked using rhsbl.test"
    assert by_session["127.0.0.11", "client.example", "<a@exists.test>", "<reverseaccess@local.example>"][2] == \
        "554 5.7.1 <forged.test>: Unverified Client host rejected: Forged"
    assert by_session["127.0.0.10", "client.example", "<a@exists.test>", "<reverseaccess@local.example>"][2] == \
        "451 4.3.5 Server configuration error"


SERVER_REPLIES = {
    ("127.0.0.1", "exists.test", "helomx"): "554 5.7.1 <exists.test>: Helo command rejected: MX host listed",
    ("127.0.0.1", "aonly.test", "heloa"): "554 5.7.1 <aonly.test>: Helo command rejected: address listed",
    ("127.0.0.1", "aonly.test", "helomx"): "554 5.7.1 <aonly.test>: Helo command rejected: address listed",
    ("127.0.0.1", "mxaddr.test", "helomx"): "450 4.7.9 <mxaddr.test>: Helo command rejected: mail host address listed",
    ("127.0.0.1", "sub.nsd.test", "helons"): "554 5.7.1 <sub.nsd.test>: Helo command rejected: NS host listed",
    ("127.0.0.1", "sub.nsd.test", "heloa"): "250 2.1.5 Ok",
    ("127.0.0.1", "[127.0.0.1]", "heloa"): "554 5.7.1 <[127.0.0.1]>: Helo command rejected: literal listed",
    ("127.0.0.1", "[127.0.0.1]", "helons"): "250 2.1.5 Ok",
    ("127.0.0.1", "mx.exists.test", "heloa"): "451 4.3.5 Server configuration error",
    ("127.0.0.10", "client.example", "clienta"):
        "554 5.7.1 <good.test[127.0.0.10]>: Client host rejected: client address listed",
    ("127.0.0.11", "client.example", "clienta"): "250 2.1.5 Ok",
    ("127.0.0.11", "client.example", "reva"):
        "554 5.7.1 <forged.test>: Unverified Client host rejected: address listed",
}
"""What some of the server lookups answer: by MX host name, by a server's address, from a parent's NS hosts, for an
address literal, an OK refused; the client's confirmed name and the name it gave."""


def test_the_server_lookups_reply_as_postfix_documents(replies):
    by_session = {(client, helo, rcpt.split("@")[0][1:]): reply[2]
                  for (client, helo, _, rcpt), reply in zip(MATRIX, replies["filterd"])}
    assert {key: by_session[key] for key in SERVER_REPLIES} == SERVER_REPLIES


MX_BACKUP_REPLIES = {
    "backup.test": "250 2.1.5 Ok", "backupname.test": "250 2.1.5 Ok",
    "primary.test": "554 5.7.1 <u@primary.test>: Relay access denied",
    "backupnet.test": "554 5.7.1 <u@backupnet.test>: Relay access denied",
    "backupmxfail.test": "450 4.4.4 <u@backupmxfail.test>: Recipient address rejected: Unable to look up mail "
                         "exchanger information: Host not found, try again",
    "backupbroken.test": "450 4.4.4 <u@backupbroken.test>: Recipient address rejected: Unable to look up mail "
                         "exchanger host gone.test: Name or service not known",
}
"""permit_mx_backup: a backup MX host by address or by name; the primary one; a primary outside
permit_mx_backup_networks; lookups that fail, which defer the reject after it."""


def test_permit_mx_backup_replies_as_postfix_documents(replies):
    by_domain = {rcpt[3:-1]: reply[2] for (_, _, _, rcpt), reply in zip(MATRIX, replies["filterd"])
                 if rcpt.startswith("<u@")}
    assert {domain: by_domain[domain] for domain in MX_BACKUP_REPLIES} == MX_BACKUP_REPLIES


LIST_REPLIES = {
    ("127.0.0.1", "dnswl"): "250 2.1.5 Ok", ("127.0.0.1", "dnswlrange"): "250 2.1.5 Ok",
    ("127.0.0.1", "dnswlmiss"): "554 5.7.1 <dnswlmiss@local.example>: Recipient address rejected: Access denied",
    ("127.0.0.12", "dnswl"): "450 4.7.1 <127.0.0.12>: Client host rejected: Service unavailable",
    ("127.0.0.10", "rhswl"): "250 2.1.5 Ok",
    ("127.0.0.11", "rhswl"): "554 5.7.1 <rhswl@local.example>: Recipient address rejected: Access denied",
    ("127.0.0.1", "rblrange"): "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using bl.test; "
                               "client listed",
    ("127.0.0.1", "rblmiss"): "250 2.1.5 Ok",
    ("127.0.0.10", "rhsblrange"): "554 5.7.1 Service unavailable; Client host [good.test] blocked using rhsbl.test; "
                                  "name listed",
    ("127.0.0.1", "wlrelay"): "554 5.7.1 <wlrelay@foreign.example>: Relay access denied",
}
"""An allowlisted client by address and by name, through reply filters and not; a failing allowlist; one that never
permits relaying; the blocklists' reply filters."""


def test_the_dns_lists_reply_as_postfix_documents(replies):
    by_session = {(client, rcpt[1:].split("@")[0]): reply[2]
                  for (client, _, _, rcpt), reply in zip(MATRIX, replies["filterd"])}
    assert {key: by_session[key] for key in LIST_REPLIES} == LIST_REPLIES


def log_lines(log: str) -> list[str]:
    """The reject lines, the name lookup warnings and the server lookups' warnings, from the text after the program
    name on."""
    wanted = re.compile(r"\]: (NOQUEUE: reject: .*|warning: (?:(?:numeric )?hostname|Unable to look up \w+ host|"
                        r"restriction check_|this is not allowed|use DUNNO).*)$")
    return sorted(match[1] for line in log.splitlines() if (match := wanted.search(line)))


def test_the_log_lines_are_postfix_s(servers, replies):
    postfix, filterd, _ = servers
    refused = sum(reply[2][:1] in ("4", "5") for reply in replies["postfix"])

    def complete(log: str) -> list[str] | None:
        found = log_lines(log)
        return found if sum(line.startswith("NOQUEUE") for line in found) >= refused else None

    theirs = wait_until(lambda: complete(postfix.maillog()), 30, "Postfix's reject lines")
    ours = wait_until(lambda: complete(filterd.log()), 30, "filterd's reject lines")
    assert ours == theirs
    assert ("NOQUEUE: reject: RCPT from unknown[127.0.0.11]: 450 4.7.25 Client host rejected: cannot find your "
            "hostname, [127.0.0.11]; from=<a@exists.test> to=<hostname@local.example> proto=ESMTP "
            "helo=<client.example>") in ours
    assert "warning: hostname forged.test does not resolve to address 127.0.0.11" in ours
    assert "warning: numeric hostname: 127.0.0.15" in ours
