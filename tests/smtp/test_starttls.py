"""STARTTLS's refusals and the commands that wait for it, without sockets (the dialogue with real clients and a
real Postfix is in tests/integration/test_tls_vs_postfix.py)."""

from __future__ import annotations

import ssl

import pytest

from filterd.assembly import implicit_tls
from filterd.config import Config, ConfigError, parse_main_cf
from filterd.fatal import FatalError
from filterd.model import Session
from filterd.parameters import CORE_PARAMETERS, validate_values
from filterd.smtp.settings import SmtpSettings
from filterd.smtp.starttls import MUST_STARTTLS, ServerTls, context_arguments
from tests.certificates import make_certificate

CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)


def config(text: str) -> Config:
    return Config(parse_main_cf(text, "main.cf"), CORE_PARAMETERS, "main.cf")


@pytest.mark.parametrize("tls, active, arg, reply", [
    (ServerTls("may", CONTEXT), False, "x", "501 5.5.4 Syntax: STARTTLS"),
    (ServerTls("may", CONTEXT), True, None, "554 5.5.1 Error: TLS already active"),
    (ServerTls("none", CONTEXT), False, None, "502 5.5.1 Error: command not implemented"),
    (ServerTls("may", None), False, None, "454 4.7.0 TLS not available due to local problem"),
    (ServerTls("encrypt", None, wrapper=True), True, None, "554 5.5.1 Error: TLS already active"),
    (ServerTls("may", CONTEXT), False, None, None),
])
def test_starttls_is_refused_in_postfix_s_order(tls, active, arg, reply):
    assert tls.refusal(Session(tls=active), arg) == reply


def test_starttls_discarded_from_ehlo_is_not_implemented():
    assert ServerTls("may", CONTEXT).refusal(Session(), None, discarded=True) == \
        "502 5.5.1 Error: command not implemented"
    assert ServerTls("may", CONTEXT).refusal(Session(), "x", discarded=True) == "501 5.5.4 Syntax: STARTTLS"


@pytest.mark.parametrize("command, waits", [("MAIL", True), ("RSET", True), ("VRFY", True), ("AUTH", True),
                                            ("ETRN", True),
                                            ("XFORWARD", True), ("EHLO", False), ("HELO", False),
                                            ("NOOP", False), ("QUIT", False), ("STARTTLS", False)])
def test_encrypt_keeps_every_command_but_postfix_s_pre_tls_ones_waiting(command, waits):
    tls = ServerTls("encrypt", CONTEXT)
    assert tls.needs_starttls(Session(), command) is waits
    assert not tls.needs_starttls(Session(tls=True), command)
    assert not ServerTls("may", CONTEXT).needs_starttls(Session(), command)
    assert MUST_STARTTLS == "530 5.7.0 Must issue a STARTTLS command first"


def test_tls_is_off_by_default_and_needs_no_certificate():
    tls = ServerTls.from_config(config(""))
    assert (tls.level, tls.context, tls.offered) == ("none", None, False)
    assert context_arguments(config("")) is None


def test_encrypt_uses_the_mandatory_protocols(tmp_path):
    cert, key = make_certificate(tmp_path)
    text = (f"smtpd_tls_security_level = encrypt\nsmtpd_tls_cert_file = {cert}\nsmtpd_tls_key_file = {key}\n"
            "smtpd_tls_mandatory_protocols = TLSv1.3\nsmtpd_tls_protocols = >=TLSv1.2\n")
    tls = ServerTls.from_config(config(text))
    assert tls.offered and tls.context.minimum_version == ssl.TLSVersion.TLSv1_3 and tls.context.num_tickets == 1


def test_implicit_tls_is_not_offered_as_starttls(tmp_path):
    cert, key = make_certificate(tmp_path)
    tls = ServerTls.from_config(config(f"smtpd_tls_wrappermode = yes\nsmtpd_tls_cert_file = {cert}\n"
                                       f"smtpd_tls_key_file = {key}\n"))
    assert tls.wrapper and tls.context is not None and not tls.offered


def test_implicit_tls_behind_a_proxy_header_is_refused_at_start(tmp_path):
    cert, key = make_certificate(tmp_path)
    text = (f"smtpd_tls_wrappermode = yes\nsmtpd_tls_cert_file = {cert}\nsmtpd_tls_key_file = {key}\n"
            "smtpd_upstream_proxy_protocol = haproxy\n")
    with pytest.raises(FatalError, match="smtpd_upstream_proxy_protocol is not supported"):
        implicit_tls(SmtpSettings.from_config(config(text)))
    assert implicit_tls(SmtpSettings.from_config(config(text.replace("haproxy", ""))))["ssl"] is not None


def test_an_unknown_upstream_proxy_protocol_is_a_configuration_error():
    with pytest.raises(ConfigError, match=r"^main.cf:1: smtpd_upstream_proxy_protocol: unsupported value \"proxy\""):
        validate_values(config("smtpd_upstream_proxy_protocol = proxy\n"))


@pytest.mark.parametrize(("text", "level"), [
    ("", "none"), ("smtpd_use_tls = yes\n", "may"), ("smtpd_enforce_tls = yes\n", "encrypt"),
    ("smtpd_use_tls = yes\nsmtpd_enforce_tls = yes\n", "encrypt"),
    ("smtpd_tls_security_level = none\nsmtpd_enforce_tls = yes\n", "none"),
])
def test_the_obsolete_use_and_enforce_tls_give_the_level_only_without_one(tmp_path, text, level):
    cert, key = make_certificate(tmp_path)
    tls = ServerTls.from_config(config(f"{text}smtpd_tls_cert_file = {cert}\nsmtpd_tls_key_file = {key}\n"))
    assert tls.level == level
