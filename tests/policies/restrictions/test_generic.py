"""The restrictions that decide alone: reject_unauth_pipelining about whatever the list is about, and sleep."""

from __future__ import annotations

import asyncio
import time

import pytest

from filterd.model import Envelope, Session
from filterd.policies.restrictions.evaluation import Check, decide

from .checks import settings, verdict_at_rcpt


def test_reject_unauth_pipelining_refuses_a_client_that_did_not_wait():
    pipelining = settings(smtpd_client_restrictions="reject_unauth_pipelining")
    assert verdict_at_rcpt(pipelining) is None
    assert verdict_at_rcpt(pipelining, improper_pipelining=True).reply() == (
        503, "5.5.0", "<unknown[198.51.100.1]>: Client host rejected: Improper use of SMTP command pipelining")


def test_at_data_reject_unauth_pipelining_names_data():
    data = settings(smtpd_data_restrictions="reject_unauth_pipelining")
    check = Check(Session(improper_pipelining=True), Envelope(sender="a@x.example", recipients=["b@local.example"]),
                  data, protocol_state="DATA")
    assert asyncio.run(decide(data.named("smtpd_data_restrictions"), check)).reply() == (
        503, "5.5.0", "<DATA>: Data command rejected: Improper use of SMTP command pipelining")


def test_sleep_pauses_and_decides_nothing():
    started = time.monotonic()
    assert verdict_at_rcpt(settings(smtpd_client_restrictions="sleep 1")) is None
    assert time.monotonic() - started >= 1


@pytest.mark.parametrize("argument", ["1s", "x", "-1"])
def test_sleep_takes_a_number_of_seconds(argument):
    with pytest.raises(Exception, match="restriction sleep must be followed by number"):
        settings(smtpd_client_restrictions=f"sleep {argument}")
