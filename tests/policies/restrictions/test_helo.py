"""Restrictions on the HELO name: syntax and access tables."""

from __future__ import annotations

import pytest

from .checks import settings, verdict_at_rcpt

HELO = settings(smtpd_helo_restrictions="reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname")


@pytest.mark.parametrize("name", ["mx.example.com", "mx.example.com.", "[192.0.2.1]", "[IPv6:2001:db8::1]", ""])
def test_good_names_pass(name):
    assert verdict_at_rcpt(HELO, helo=name) is None


@pytest.mark.parametrize(("name", "reply"), [
    ("bad_name!", (501, "5.5.2", "<bad_name!>: Helo command rejected: Invalid name")),
    ("[192.0.2.300]", (501, "5.5.2", "<[192.0.2.300]>: Helo command rejected: invalid ip address")),
    ("localhost", (504, "5.5.2", "<localhost>: Helo command rejected: need fully-qualified hostname")),
])
def test_bad_names_are_refused(name, reply):
    assert verdict_at_rcpt(HELO, helo=name).reply() == reply


def test_check_helo_access_looks_up_parent_domains():
    access = settings(smtpd_helo_restrictions="check_helo_access inline:{ example.com=REJECT }")
    assert verdict_at_rcpt(access, helo="mx.example.com").text == \
        "<mx.example.com>: Helo command rejected: Access denied"
    assert verdict_at_rcpt(access, helo="mx.example.org") is None
