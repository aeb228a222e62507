"""SSL contexts from Postfix's parameters, and a negotiated session in Postfix's words."""

from __future__ import annotations

import ssl

import pytest

from filterd.config import Config, parse_main_cf
from filterd.parameters import CORE_PARAMETERS
from filterd.tls import ClientTls, TlsSession, client_context, server_context
from tests.certificates import make_certificate

MEDIUM = CORE_PARAMETERS["tls_medium_cipherlist"].default


def config(text: str) -> Config:
    return Config(parse_main_cf(text, "main.cf"), CORE_PARAMETERS, "main.cf")


class FakeSslObject:
    def __init__(self, cipher):
        self._cipher = cipher

    def cipher(self):
        return self._cipher

    def version(self):
        return self._cipher[1] if self._cipher else None


def test_a_session_is_described_in_postfix_s_words():
    session = TlsSession.of(FakeSslObject(("TLS_AES_256_GCM_SHA384", "TLSv1.3", 256)))
    assert session.summary() == "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
    assert TlsSession.of(FakeSslObject(None)) is None and TlsSession.of(None) is None


def test_the_server_context_takes_the_certificate_and_the_protocol_range(tmp_path):
    cert, key = make_certificate(tmp_path)
    context = server_context(str(cert), str(key), ">=TLSv1.2", MEDIUM)
    assert (context.minimum_version, context.maximum_version) == (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    assert context.options & ssl.OP_NO_COMPRESSION


def test_a_missing_certificate_is_an_error(tmp_path):
    with pytest.raises(OSError):
        server_context(str(tmp_path / "none.pem"), "", ">=TLSv1.2", MEDIUM)


def test_the_client_checks_the_certificate_only_when_asked(tmp_path):
    cert, _ = make_certificate(tmp_path)
    loose = client_context(False, ">=TLSv1.2", MEDIUM)
    strict = client_context(True, "TLSv1.3", MEDIUM, str(cert), "")
    assert (loose.verify_mode, loose.check_hostname) == (ssl.CERT_NONE, False)
    assert (strict.verify_mode, strict.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert strict.minimum_version == ssl.TLSVersion.TLSv1_3


@pytest.mark.parametrize("level, verify", [("may", False), ("encrypt", False), ("verify", True), ("secure", True)])
def test_the_client_level_picks_the_context(tmp_path, level, verify):
    cert, _ = make_certificate(tmp_path)
    tls = ClientTls.from_config(config(f"smtp_tls_security_level = {level}\nsmtp_tls_CAfile = {cert}\n"))
    assert tls.level == level and tls.context.check_hostname is verify


@pytest.mark.parametrize("text", ["", "smtp_tls_security_level = none\n"])
def test_no_client_tls_by_default(text):
    assert ClientTls.from_config(config(text)).context is None


def test_a_context_and_its_failure_are_made_once_per_process(tmp_path):
    """Made while a worker can still read root-only keys, found again once it runs as mail_owner."""
    cert, key = make_certificate(tmp_path)
    assert server_context(str(cert), str(key), ">=TLSv1.2", MEDIUM) is \
        server_context(str(cert), str(key), ">=TLSv1.2", MEDIUM)
    missing = str(tmp_path / "later.pem")
    with pytest.raises(OSError):
        server_context(missing, missing, ">=TLSv1.2", MEDIUM)
    cert.rename(missing)
    with pytest.raises(OSError):
        server_context(missing, missing, ">=TLSv1.2", MEDIUM)


def test_an_unreadable_authority_file_disables_tls_and_required_tls_fails(tmp_path):
    tls = ClientTls.from_config(config(f"smtp_tls_security_level = verify\nsmtp_tls_CAfile = {tmp_path}/none.pem\n"))
    assert tls.level == "verify" and tls.context is None
