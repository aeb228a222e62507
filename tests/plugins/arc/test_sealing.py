"""The sets filterd seals: byte for byte the ones dkimpy's ARC.sign makes on the same message with the same key and
time, signed with OpenSSL (dkimpy's RSA never called), and valid in Mail::DKIM's verifier as in dkimpy's, first in
a chain or after an earlier set."""

from __future__ import annotations

import dkim
import dkim.crypto
import pytest

from filterd import AuthResult, ConfigError, Message
from filterd.plugins import arc
from filterd import BodyHash
from filterd.plugins.arc.sealing import arc_set
from filterd.testing import load_plugins, make_message
from tests.fixtures.dkim_keys import make_key
from tests.plugins.arc.chains import (MESSAGE, dkimpy_validates, forwarded_by_the_list, mail_dkim_validates, results,
                                      sealing)

NOW = 1_796_299_200
AUTHSERV_ID = "mx.fwd.example.com"
DKIM_PASS = AuthResult("dkim", "pass", properties={"header.d": "example.org", "header.s": "sel"})


def settings(tmp_path, keys):
    return load_plugins(arc, settings=sealing(tmp_path, keys)).settings["filterd.plugins.arc"]


def filterd_seals(data: bytes, cv: str, settings) -> list[tuple[str, str]]:
    """arc_set on the message, at NOW, its chain reported as arc=`cv` after dkim=pass."""
    message = Message.from_bytes(data)
    body_hash = BodyHash(relaxed=True)
    for chunk in message.body_chunks():
        body_hash.update(chunk)
    return arc_set(message.header_bytes(), body_hash.digest(), (DKIM_PASS, AuthResult("arc", cv)), settings, NOW)


def dkimpy_seals(data: bytes, cv: str, keys) -> list[tuple[str, str]]:
    """dkimpy's ARC.sign on the message, at NOW, given the same results in this host's Authentication-Results."""
    stamped = (f"Authentication-Results: {AUTHSERV_ID}; dkim=pass header.d=example.org header.s=sel; arc={cv}\r\n"
               .encode() + data)
    key = keys["forwarder"]
    lines = dkim.ARC(stamped).sign(key.selector.encode(), key.domain.encode(), key.path.read_bytes(),
                                   AUTHSERV_ID.encode(), timestamp=NOW)
    return [(name, value.strip()) for name, _, value in (line.decode().partition(":") for line in lines)]


def with_set(headers: list[tuple[str, str]], data: bytes) -> bytes:
    return "".join(f"{name}: {value}\r\n" for name, value in headers).encode() + data


@pytest.mark.parametrize("cv", ["pass", "fail"])
def test_the_set_is_dkimpy_s_byte_for_byte(tmp_path, keys, cv):
    """First in a chain, then after that set with the chain passing or failing (the seal then covers its own set
    only), the message carrying an Authentication-Results of this host already (dkimpy copies it too)."""
    data = f"Authentication-Results: {AUTHSERV_ID}; spf=pass smtp.mailfrom=example.org\r\n".encode() + MESSAGE
    first = filterd_seals(data, "none", settings(tmp_path, keys))
    assert first == dkimpy_seals(data, "none", keys)
    second = filterd_seals(with_set(first, data), cv, settings(tmp_path, keys))
    assert second == dkimpy_seals(with_set(first, data), cv, keys)
    assert second[0][1].startswith(f"i=2; cv={cv}; a=rsa-sha256;")


def test_dkimpy_s_rsa_is_never_called(tmp_path, keys, dns_server, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("dkimpy's RSA called")

    with monkeypatch.context() as patched:
        for module in (dkim, dkim.crypto):
            for name in ("RSASSA_PKCS1_v1_5_sign", "parse_pem_private_key"):
                patched.setattr(module, name, refuse)
        outcome = results(MESSAGE, dns_server, **sealing(tmp_path, keys))[1]
    cv, sets, reason = dkimpy_validates(outcome.message.as_bytes(), keys["forwarder"])
    assert (cv, reason) == (b"pass", "success")


@pytest.mark.parametrize("earlier", ["mail_dkim", "filterd"])
def test_a_second_set_validates_in_mail_dkim_and_dkimpy(tmp_path, keys, dns_server, earlier):
    for key in keys.values():
        dns_server.zone.add(key.name, key.txt())
    if earlier == "mail_dkim":
        chain, first = forwarded_by_the_list(tmp_path, keys), keys["list"].domain
    else:
        chain = results(MESSAGE, dns_server, **sealing(tmp_path, keys))[1].message.as_bytes()
        first = keys["forwarder"].domain
    sealed = results(chain, dns_server, **sealing(tmp_path, keys))[1]
    assert sealed.header("ARC-Seal").startswith("i=2; cv=pass; a=rsa-sha256; d=fwd.example.com;")
    data = sealed.message.as_bytes()
    assert mail_dkim_validates(data, dns_server) == (f"pass (as.2.fwd.example.com=pass, ams.2.fwd.example.com=pass, "
                                                     f"as.1.{first}=pass, ams.1.{first}=pass)")
    assert dkimpy_validates(data, *keys.values())[::2] == (b"pass", "success")


def test_a_first_set_validates_in_mail_dkim(tmp_path, keys, dns_server):
    dns_server.zone.add(keys["forwarder"].name, keys["forwarder"].txt())
    sealed = results(MESSAGE, dns_server, **sealing(tmp_path, keys))[1].message.as_bytes()
    assert mail_dkim_validates(sealed, dns_server) == "pass (as.1.fwd.example.com=pass, ams.1.fwd.example.com=pass)"
    changed = sealed.replace(b"the agenda", b"the new agenda")
    assert mail_dkim_validates(changed, dns_server).startswith("fail")


def test_an_authentication_results_header_authres_cannot_read_is_left_out(tmp_path, keys, dns_server):
    """dkimpy skips one with a syntax error, and fails on one of an unknown version; both are left out here."""
    dns_server.zone.add(keys["forwarder"].name, keys["forwarder"].txt())
    unreadable = (f"Authentication-Results: {AUTHSERV_ID} 2; spf=pass\r\n"
                  f"Authentication-Results: {AUTHSERV_ID}; spf=pass (\r\n").encode() + MESSAGE
    sealed = results(unreadable, dns_server, **sealing(tmp_path, keys))[1]
    assert sealed.header("ARC-Authentication-Results") == f"i=1; {AUTHSERV_ID}; arc=none"
    assert mail_dkim_validates(sealed.message.as_bytes(), dns_server).startswith("pass")


def test_a_message_without_from_is_not_sealed(tmp_path, keys, dns_server):
    """dkimpy refuses to sign it (From MUST be signed); the chain's result is still reported."""
    anonymous = make_message(subject="no author").replace(b"From: sender@example.org\r\n", b"")
    report, outcome = results(anonymous, dns_server, **sealing(tmp_path, keys))
    assert (report, outcome.header("ARC-Seal")) == ("arc=none", None)


def test_a_key_other_than_rsa_is_refused(tmp_path, keys):
    ed25519 = make_key(tmp_path, domain="fwd.example.com", kind="ed25519")
    with pytest.raises(ConfigError, match="filterd_arc_key_file: .*: not an RSA key"):
        load_plugins(arc, settings={**sealing(tmp_path, keys), "filterd_arc_key_file": str(ed25519.path)})
