"""The TLS parameters' values: Postfix's protocol lists, levels and cipher grades."""

from __future__ import annotations

import ssl
import subprocess

import pytest

from filterd.config import Config, ConfigError, parse_main_cf
from filterd.parameters import CORE_PARAMETERS, validate_values
from filterd.parameters.tls import TLS_PARAMETERS, parse_protocols

V = ssl.TLSVersion


@pytest.mark.parametrize("text, expected", [
    (">=TLSv1.2", (V.TLSv1_2, V.TLSv1_3)),
    (">=TLSv1", (V.TLSv1, V.TLSv1_3)),
    ("<=TLSv1.2", (V.TLSv1, V.TLSv1_2)),
    ("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", (V.TLSv1_2, V.TLSv1_3)),
    ("TLSv1.3", (V.TLSv1_3, V.TLSv1_3)),
    ("TLSv1.2:TLSv1.3", (V.TLSv1_2, V.TLSv1_3)),
    ("", (V.TLSv1, V.TLSv1_3)),
])
def test_a_postfix_protocol_list_is_a_version_range(text, expected):
    assert parse_protocols(text) == expected


@pytest.mark.parametrize("text, message", [
    (">=TLSv1.4", 'bad protocol "TLSv1.4"'),
    ("!TLSv1.2, <=TLSv1.2, >=TLSv1.2", "leaves no TLS protocol"),
    ("SSLv3", "leaves no TLS protocol"),
])
def test_a_bad_protocol_list_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_protocols(text)


def config(text: str) -> Config:
    return Config(parse_main_cf(text, "main.cf"), CORE_PARAMETERS, "main.cf")


def test_the_defaults_are_postfixs_but_for_the_protocols():
    """Issue 16 asks for TLS 1.2 and later by default; Postfix says >=TLSv1 (which OpenSSL 3 on Debian 12 narrows
    to TLSv1.2 anyway)."""
    names = sorted(TLS_PARAMETERS)
    shown = subprocess.run(["postconf", "-d", *names], capture_output=True, text=True, check=True).stdout
    pairs = (line.partition("=")[::2] for line in shown.splitlines())
    postfix = {name.strip(): value.strip() for name, value in pairs}
    postfix["smtpd_starttls_timeout"] = "300s"
    differ = {name for name in names if postfix[name] != TLS_PARAMETERS[name].default}
    assert differ == {"smtpd_tls_protocols", "smtpd_tls_mandatory_protocols", "smtp_tls_protocols",
                      "smtp_tls_mandatory_protocols"}
    assert {postfix[name] for name in differ} == {">=TLSv1"}


@pytest.mark.parametrize("line, message", [
    ("smtpd_tls_security_level = verify", 'smtpd_tls_security_level: bad value "verify"'),
    ("smtp_tls_security_level = dane", 'smtp_tls_security_level: bad value "dane"'),
    ("smtpd_tls_ciphers = export", 'smtpd_tls_ciphers: bad value "export"'),
    ("smtp_tls_protocols = >=TLSv2", 'smtp_tls_protocols: bad protocol "TLSv2"'),
])
def test_a_bad_tls_setting_is_refused_naming_the_line(line, message):
    with pytest.raises(ConfigError, match=f"^main.cf:1: .*{message}"):
        validate_values(config(f"{line}\n"))
