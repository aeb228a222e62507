"""The resolver's and the SMTP client's DNS parameters: Postfix's defaults, checked values, and what they build."""

from __future__ import annotations

import subprocess

import pytest

from filterd.assembly import dns_support, host_lookup
from filterd.config import Config, ConfigError, parse_main_cf
from filterd.parameters import CORE_PARAMETERS, validate_values

POSTFIX_NAMES = ["smtp_dns_support_level", "disable_dns_lookups", "smtp_host_lookup", "ignore_mx_lookup_error",
                 "smtp_defer_if_no_mx_address_found", "smtp_mx_address_limit"]


def config(text: str) -> Config:
    return Config(parse_main_cf(text, "main.cf"), CORE_PARAMETERS, "main.cf")


def test_the_defaults_are_postfixs():
    shown = subprocess.run(["postconf", "-d", *POSTFIX_NAMES], capture_output=True, text=True, check=True).stdout
    pairs = (line.partition("=")[::2] for line in shown.splitlines())
    assert {name.strip(): value.strip() for name, value in pairs} == \
        {name: CORE_PARAMETERS[name].default for name in POSTFIX_NAMES}


@pytest.mark.parametrize("line, message", [
    ("filterd_dns_servers = 127.0.0.1:5353, 127.0.0.1:x", 'bad nameserver "127.0.0.1:x"'),
    ("smtp_host_lookup = dns, nis", 'smtp_host_lookup: bad value "nis": expected one of dns, native'),
    ("smtp_dns_support_level = maybe", 'smtp_dns_support_level: bad value "maybe"'),
])
def test_bad_values_are_refused_naming_the_line(line, message):
    with pytest.raises(ConfigError, match=f"^main.cf:1: .*{message}"):
        validate_values(config(f"{line}\n"))


@pytest.mark.parametrize("text, enabled", [("", True), ("smtp_dns_support_level = enabled", True),
                                           ("smtp_dns_support_level = disabled", False),
                                           ("disable_dns_lookups = yes", False),
                                           ("disable_dns_lookups = yes\nsmtp_dns_support_level = enabled", True)])
def test_smtp_dns_support_level_wins_over_the_deprecated_disable_dns_lookups(text, enabled):
    assert dns_support(config(text)) is enabled
    assert (host_lookup(config(text)).resolver is not None) is enabled


def test_filterd_dns_servers_point_every_lookup_elsewhere():
    lookup = host_lookup(config("filterd_dns_servers = 127.0.0.1:5353 [::1]\nsmtp_host_lookup = dns, native"))
    assert lookup.resolver.nameservers == ["127.0.0.1:5353", "::1:53"]
    assert lookup.host_lookup == ("dns", "native")
