"""The dkim plugin both ways with OpenDKIM: what filterd signs (RSA 2048, Ed25519) verifies in OpenDKIM's test mode
with TestPublicKeys, what OpenDKIM signs verifies in filterd with the key record served by the loopback DNS server;
a changed body fails; which mail is signed; a missing key file or a bad table line named with its FILE:LINE."""

from __future__ import annotations

import dkim
import pytest

from filterd import ConfigError, Message, Session
from filterd.plugins import dkim as dkim_plugin
from filterd.testing import load_plugins, make_message, run_plugin
from tests.fixtures.dkim_keys import make_key, opendkim_signs, opendkim_verifies, tables

OUTSIDE = "192.0.2.25"
MESSAGE = make_message(subject="minutes", body="Hello,\n\nthe  minutes\tare attached.  \n\n\n",
                       sender="Ann <ann@example.org>",
                       headers={"Date": "Thu, 03 Dec 2026 12:00:00 +0000", "Message-ID": "<1@example.org>"})


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    return {"rsa": make_key(folder), "ed25519": make_key(folder, selector="ed", kind="ed25519")}


def signed(tmp_path, key, message: bytes = MESSAGE, **more) -> bytes:
    outcome = run_plugin(dkim_plugin, message=message, settings={**tables(tmp_path, key), **more})
    assert outcome.accepted
    return outcome.message.as_bytes()


def test_what_filterd_signs_with_rsa_verifies_in_opendkim(tmp_path, keys):
    message = signed(tmp_path, keys["rsa"])
    assert message.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org;")
    assert "verification (s=sel, d=example.org, 2048-bit key) succeeded" in opendkim_verifies(tmp_path, message,
                                                                                              keys["rsa"])


def test_a_changed_body_fails_in_opendkim(tmp_path, keys):
    message = signed(tmp_path, keys["rsa"]).replace(b"attached", b"detached")
    verdict = opendkim_verifies(tmp_path, message, keys["rsa"])
    assert "verification (s=sel d=example.org, 2048-bit key, unknown) failed" in verdict


def test_rfc_6376_s_header_set_is_signed_with_from_signed_twice(tmp_path, keys):
    message = signed(tmp_path, keys["rsa"])
    tags = dkim.util.parse_tag_value(Message.from_bytes(message).get("DKIM-Signature").encode())
    assert tags[b"h"].replace(b" ", b"").split(b":") == [b"from", b"to", b"subject", b"date", b"message-id",
                                                         b"content-type", b"content-transfer-encoding",
                                                         b"mime-version", b"from"]


def test_what_filterd_signs_with_ed25519_verifies_in_dkimpy(tmp_path, keys):
    message = signed(tmp_path, keys["ed25519"])
    assert b"a=ed25519-sha256" in message
    record = keys["ed25519"].record.encode()
    assert dkim.verify(message, dnsfunc=lambda name, timeout=0: record)


def verified(message: bytes, dns_server, client_address: str = OUTSIDE, **settings) -> str:
    """The results in Authentication-Results, without the authserv-id."""
    outcome = run_plugin(dkim_plugin, message=message, client_address=client_address,
                         settings={"filterd_dns_servers": dns_server.address, **settings})
    assert outcome.accepted
    return outcome.header("Authentication-Results").split(";", 1)[1].strip()


def test_what_opendkim_signs_verifies_in_filterd(tmp_path, keys, dns_server):
    dns_server.zone.add(keys["rsa"].name, keys["rsa"].txt())
    message = opendkim_signs(tmp_path, MESSAGE, keys["rsa"])
    assert verified(message, dns_server).startswith("dkim=pass header.d=example.org header.s=sel header.b=")


def test_a_changed_body_signed_by_opendkim_fails_in_filterd(tmp_path, keys, dns_server):
    dns_server.zone.add(keys["rsa"].name, keys["rsa"].txt())
    message = opendkim_signs(tmp_path, MESSAGE, keys["rsa"]).replace(b"attached", b"detached")
    assert 'dkim=fail reason="body hash did not verify" header.d=example.org' in verified(message, dns_server)


def test_a_changed_header_fails_in_filterd(tmp_path, keys, dns_server):
    dns_server.zone.add(keys["rsa"].name, keys["rsa"].txt())
    message = opendkim_signs(tmp_path, MESSAGE, keys["rsa"]).replace(b"Subject: minutes", b"Subject: invoice")
    assert 'dkim=fail reason="signature did not verify"' in verified(message, dns_server)


def test_an_ed25519_signature_verifies_in_filterd(tmp_path, keys, dns_server):
    dns_server.zone.add(keys["ed25519"].name, keys["ed25519"].txt())
    message = signed(tmp_path, keys["ed25519"])
    assert "dkim=pass header.d=example.org header.s=ed" in verified(message, dns_server)


def test_no_key_record_is_a_permerror_and_a_failing_server_a_temperror(tmp_path, keys, dns_server):
    message = signed(tmp_path, keys["rsa"])
    assert "dkim=permerror" in verified(message, dns_server)
    dns_server.zone.fail(keys["rsa"].name, "servfail")
    assert "dkim=temperror" in verified(message, dns_server)


def test_an_unsigned_message_is_dkim_none(dns_server):
    assert verified(MESSAGE, dns_server) == "dkim=none"


def test_mail_from_outside_the_sign_networks_is_verified_not_signed(tmp_path, keys, dns_server):
    outcome = run_plugin(dkim_plugin, message=MESSAGE, client_address=OUTSIDE,
                         settings={**tables(tmp_path, keys["rsa"]), "filterd_dns_servers": dns_server.address})
    assert outcome.header("DKIM-Signature") is None
    assert outcome.header("Authentication-Results").split(";")[1].strip() == "dkim=none"


def test_a_refile_pattern_chooses_the_key_and_another_domain_is_not_signed(tmp_path, keys):
    settings = tables(tmp_path, keys["rsa"], refile=True)
    assert b"d=example.org" in run_plugin(dkim_plugin, message=MESSAGE, settings=settings).message.as_bytes()
    other = make_message(sender="bob@example.com")
    assert run_plugin(dkim_plugin, message=other, settings=settings).header("DKIM-Signature") is None


def test_a_missing_key_file_is_named_with_the_key_table_s_line(tmp_path, keys):
    settings = tables(tmp_path, keys["rsa"])
    (tmp_path / "KeyTable").write_text("# keys\nsel-example.org example.org:sel:/nonexistent/sel.pem\n")
    with pytest.raises(ConfigError) as error:
        run_plugin(dkim_plugin, message=MESSAGE, settings=settings)
    assert f"{tmp_path}/KeyTable:2: key file /nonexistent/sel.pem: No such file or directory" in str(error.value)


def test_a_bad_signing_table_line_is_named_with_its_line(tmp_path, keys):
    settings = tables(tmp_path, keys["rsa"])
    (tmp_path / "SigningTable").write_text("example.org sel-example.org\nexample.net\n")
    with pytest.raises(ConfigError) as error:
        run_plugin(dkim_plugin, message=MESSAGE, settings=settings)
    assert f"{tmp_path}/SigningTable:2: expected PATTERN KEYNAME" in str(error.value)


def test_an_authenticated_client_is_signed_for_wherever_it_connects_from(tmp_path, keys):
    def signs(session: Session, **more: str) -> bool:
        settings = load_plugins(dkim_plugin, settings={**tables(tmp_path, keys["rsa"]), **more})
        return settings.settings["filterd.plugins.dkim"].signs(session)

    assert signs(Session(client_address=OUTSIDE, sasl_username="ann"))
    assert not signs(Session(client_address=OUTSIDE))
    assert not signs(Session(client_address=OUTSIDE, sasl_username="ann"), filterd_dkim_sign_authenticated="no")
    assert signs(Session(client_address="192.0.2.9"), filterd_dkim_sign_networks="192.0.2.0/28")
