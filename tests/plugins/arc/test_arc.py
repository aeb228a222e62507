"""The arc plugin with another implementation: a chain sealed by Mail::DKIM (Perl) validates in filterd, a changed
one fails; what filterd seals, first in a chain or after Mail::DKIM's set, validates in dkimpy's verifier."""

from __future__ import annotations

import dkim
import pytest

from filterd import ConfigError
from filterd.plugins import arc
from filterd.plugins import dkim as dkim_plugin
from filterd.testing import make_message, run_plugin
from tests.fixtures.dkim_keys import mail_dkim_arc_seal, make_key, tables

LIST = "lists.example.net"
MESSAGE = make_message(subject="agenda", body="Hello list,\n\nthe agenda.\n", sender="ann@example.org",
                       to=f"team@{LIST}", headers={"Date": "Thu, 03 Dec 2026 12:00:00 +0000",
                                                    "Message-ID": "<2@example.org>"})


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    return {"list": make_key(folder, domain=LIST, selector="arc"),
            "forwarder": make_key(folder, domain="fwd.example.com", selector="seal")}


def forwarded_by_the_list(tmp_path, keys) -> bytes:
    """MESSAGE as the list's Mail::DKIM sealed it, having found no chain on it."""
    stamped = f"Authentication-Results: {LIST}; arc=none; dkim=pass header.d=example.org\r\n".encode() + MESSAGE
    return mail_dkim_arc_seal(tmp_path, stamped, keys["list"], LIST)


def results(message: bytes, dns_server, **settings) -> tuple[str, object]:
    outcome = run_plugin(arc, message=message, settings={"filterd_dns_servers": dns_server.address, **settings})
    assert outcome.accepted
    return outcome.header("Authentication-Results").split(";", 1)[1].strip(), outcome


def test_a_chain_sealed_by_mail_dkim_validates_in_filterd(tmp_path, keys, dns_server):
    dns_server.zone.add(keys["list"].name, keys["list"].txt())
    assert results(forwarded_by_the_list(tmp_path, keys), dns_server)[0] == "arc=pass"


def test_a_changed_message_breaks_the_chain(tmp_path, keys, dns_server):
    dns_server.zone.add(keys["list"].name, keys["list"].txt())
    changed = forwarded_by_the_list(tmp_path, keys).replace(b"the agenda", b"the new agenda")
    assert results(changed, dns_server)[0].startswith("arc=fail")


def test_a_message_without_a_chain_is_arc_none(dns_server):
    assert results(MESSAGE, dns_server)[0] == "arc=none"


def sealing(tmp_path, keys) -> dict[str, str]:
    key = keys["forwarder"]
    return {"filterd_arc_domain": key.domain, "filterd_arc_selector": key.selector,
            "filterd_arc_key_file": str(key.path), "filterd_arc_authserv_id": "mx.fwd.example.com"}


def dkimpy_validates(message: bytes, *keys) -> tuple:
    records = {f"{key.name}.".encode(): key.record.encode() for key in keys}
    return dkim.arc_verify(message, dnsfunc=lambda name, timeout=0: records.get(name))


def test_what_filterd_seals_first_validates_in_dkimpy(tmp_path, keys, dns_server):
    outcome = results(MESSAGE, dns_server, **sealing(tmp_path, keys))[1]
    assert outcome.header("ARC-Seal").startswith("i=1; cv=none; a=rsa-sha256; d=fwd.example.com; s=seal;")
    assert outcome.header("ARC-Authentication-Results") == "i=1; mx.fwd.example.com; arc=none"
    cv, sets, reason = dkimpy_validates(outcome.message.as_bytes(), keys["forwarder"])
    assert (cv, reason) == (b"pass", "success") and sets[0]["as-valid"] and sets[0]["ams-valid"]


def test_what_filterd_seals_after_mail_dkim_s_set_validates_in_dkimpy(tmp_path, keys, dns_server):
    dns_server.zone.add(keys["list"].name, keys["list"].txt())
    outcome = results(forwarded_by_the_list(tmp_path, keys), dns_server, **sealing(tmp_path, keys))[1]
    assert outcome.header("ARC-Seal").startswith("i=2; cv=pass; a=rsa-sha256; d=fwd.example.com;")
    cv, sets, reason = dkimpy_validates(outcome.message.as_bytes(), keys["forwarder"], keys["list"])
    assert (cv, reason, len(sets)) == (b"pass", "success", 2)


def test_a_seal_without_a_key_file_is_refused(tmp_path, keys):
    settings = {**sealing(tmp_path, keys), "filterd_arc_key_file": str(tmp_path / "missing.pem")}
    with pytest.raises(ConfigError, match="filterd_arc_key_file: .*missing.pem: No such file or directory"):
        run_plugin(arc, message=MESSAGE, settings=settings)


def test_the_seal_carries_the_dkim_results_reported_before_it(tmp_path, keys, dns_server):
    author = make_key(tmp_path)
    dns_server.zone.add(author.name, author.txt())
    signed = run_plugin(dkim_plugin, message=MESSAGE, settings=tables(tmp_path, author)).message.as_bytes()
    outcome = run_plugin(dkim_plugin, arc, message=signed, client_address="192.0.2.25",
                         settings={"filterd_dns_servers": dns_server.address, **sealing(tmp_path, keys)})
    aar = outcome.header("ARC-Authentication-Results")
    assert aar.startswith("i=1; mx.fwd.example.com; dkim=pass header.d=example.org header.s=sel") and "arc=none" in aar
