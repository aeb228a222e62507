"""What the arc plugin's tests share: a message to a list, the chain the list's Mail::DKIM seals on it, the plugin's
settings to seal, and the verdicts of the plugin, of dkimpy's ARC verifier and of Mail::DKIM's on a chain."""

from __future__ import annotations

import subprocess

import dkim

from filterd.plugins import arc
from filterd.testing import make_message, run_plugin
from tests.fixtures.dkim_keys import Key, mail_dkim_arc_seal

LIST = "lists.example.net"
MESSAGE = make_message(subject="agenda", body="Hello list,\n\nthe agenda.\n", sender="ann@example.org",
                       to=f"team@{LIST}", headers={"Date": "Thu, 03 Dec 2026 12:00:00 +0000",
                                                    "Message-ID": "<2@example.org>"})
MAIL_DKIM_VERIFY = r"""
use strict; use Mail::DKIM::ARC::Verifier; use Net::DNS::Resolver;
my ($server, $port) = @ARGV;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers => [$server], port => $port, retry => 1));
my $arc = Mail::DKIM::ARC::Verifier->new(Strict => 1);
local $/; my $message = <STDIN>; $message =~ s/\r?\n/\r\n/g;
$arc->PRINT($message); $arc->CLOSE;
print $arc->result_detail;
"""
"""Mail::DKIM's ARC verifier (Perl) on standard input, the key records from the DNS server HOST PORT: its
result_detail ("pass", "fail (body has been altered)", ...)."""


def forwarded_by_the_list(tmp_path, keys) -> bytes:
    """MESSAGE as the list's Mail::DKIM sealed it, having found no chain on it."""
    stamped = f"Authentication-Results: {LIST}; arc=none; dkim=pass header.d=example.org\r\n".encode() + MESSAGE
    return mail_dkim_arc_seal(tmp_path, stamped, keys["list"], LIST)


def results(message: bytes, dns_server, **settings) -> tuple[str, object]:
    outcome = run_plugin(arc, message=message, settings={"filterd_dns_servers": dns_server.address, **settings})
    assert outcome.accepted
    return outcome.header("Authentication-Results").split(";", 1)[1].strip(), outcome


def sealing(tmp_path, keys) -> dict[str, str]:
    key = keys["forwarder"]
    return {"filterd_arc_domain": key.domain, "filterd_arc_selector": key.selector,
            "filterd_arc_key_file": str(key.path), "filterd_arc_authserv_id": "mx.fwd.example.com"}


def dkimpy_validates(message: bytes, *keys: Key) -> tuple:
    records = {f"{key.name}.".encode(): key.record.encode() for key in keys}
    return dkim.arc_verify(message, dnsfunc=lambda name, timeout=0: records.get(name))


def mail_dkim_validates(message: bytes, dns_server) -> str:
    """Mail::DKIM's result_detail for the chain, the keys' records served by `dns_server`."""
    done = subprocess.run(["perl", "-e", MAIL_DKIM_VERIFY, dns_server.host, str(dns_server.port)], input=message,
                          capture_output=True, timeout=60, check=True)
    return done.stdout.decode()
