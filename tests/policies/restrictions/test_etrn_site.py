"""check_etrn_access and smtpd_etrn_restrictions: the ETRN domain and its parents, replies naming it."""

from __future__ import annotations

import asyncio

from filterd.model import Envelope, Session
from filterd.policies.restrictions import etrn
from filterd.policies.restrictions.evaluation import Check

from .checks import settings


def at_etrn(settings_, site: str, helo: str = ""):
    check = Check(Session(client_address="198.51.100.1", helo=helo), Envelope(sender=None), settings_,
                  protocol_state="ETRN", site=site)
    return asyncio.run(etrn(check.session, site, settings_))


def test_check_etrn_access_looks_up_the_domain_and_its_parents():
    tables = settings(smtpd_etrn_restrictions="check_etrn_access inline:{example.com=REJECT, ok.example=OK}, reject")
    assert at_etrn(tables, "sub.example.com").reply() == (
        554, "5.7.1", "<sub.example.com>: Etrn command rejected: Access denied")
    assert at_etrn(tables, "ok.example") is None
    assert at_etrn(tables, "other.example").text == "<other.example>: Etrn command rejected: Access denied"


def test_the_helo_list_waits_for_a_helo_name():
    helo = settings(smtpd_helo_restrictions="defer", smtpd_etrn_restrictions="permit")
    assert at_etrn(helo, "example.com") is None
    assert at_etrn(helo, "example.com", helo="client.example").text == \
        "<client.example>: Helo command rejected: Try again later"
