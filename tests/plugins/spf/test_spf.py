"""The spf plugin against records from the loopback DNS server: each RFC 7208 result for the sender and for the HELO
name, reported in Authentication-Results and scored, and the results filterd_spf_reject names refusing MAIL FROM."""

from __future__ import annotations

import asyncio

import pytest

import filterd.plugins.spf as spf_plugin
from filterd import Action, ConfigError, Session
from filterd.plugins.spf.settings import RESULTS, Settings
from filterd.testing import make_message, run_plugin

CLIENT, HELO = "192.0.2.10", "mail.example.org"


def check(dns_server, sender: str = "user@example.org", helo: str = HELO, **settings: str):
    settings = {"filterd_dns_servers": dns_server.address, "myhostname": "mx.example.net", **settings}
    return run_plugin(spf_plugin, message=make_message(), settings=settings, sender=sender, client_address=CLIENT,
                      helo=helo)


def results(outcome) -> str:
    return outcome.message.get("Authentication-Results")


@pytest.mark.parametrize("record, result", [
    ("v=spf1 ip4:192.0.2.0/24 -all", "pass"),
    ("v=spf1 ip4:198.51.100.1 -all", "fail"),
    ("v=spf1 ~all", "softfail"),
    ("v=spf1 ?all", "neutral"),
    (None, "none"),
    ("v=spf1 ip4:192.0.2.0/24 moo -all", "permerror"),
])
def test_each_result_of_the_sender_s_domain_is_reported_and_scored(dns_server, record, result):
    dns_server.zone.add("mail.example.org", "A 192.0.2.10")
    if record:
        dns_server.zone.add("example.org", f'TXT "{record}"')
    outcome = check(dns_server)
    assert outcome.accepted
    assert results(outcome) == (f"mx.example.net;\tspf=none smtp.helo=mail.example.org;\t"
                                f"spf={result} smtp.mailfrom=user@example.org")
    [scored] = outcome.symbols
    assert (scored.plugin, scored.hook, scored.symbol.name) == (spf_plugin.__name__, "mail_from",
                                                                f"SPF_{result.upper()}")
    assert scored.symbol.weight == {"pass": -0.2, "fail": 1, "softfail": 0.5}.get(result, 0)


def test_a_dns_failure_is_temperror(dns_server):
    dns_server.zone.fail("example.org", "servfail", "TXT")
    outcome = check(dns_server, helo="[192.0.2.10]")
    assert results(outcome) == "mx.example.net;\tspf=temperror smtp.mailfrom=user@example.org"


def test_mechanisms_that_ask_the_dns_again_are_answered_by_the_loopback_server(dns_server):
    dns_server.zone.add("example.org", 'TXT "v=spf1 include:_spf.example.org -all"')
    dns_server.zone.add("_spf.example.org", 'TXT "v=spf1 mx a:out.example.org -all"')
    dns_server.zone.add("_spf.example.org", "MX 10 mx1.example.org.")
    dns_server.zone.add("mx1.example.org", "A 198.51.100.7")
    dns_server.zone.add("out.example.org", "A 192.0.2.10")
    assert "spf=pass smtp.mailfrom=user@example.org" in results(check(dns_server))


def test_the_helo_name_is_checked_too_and_the_null_sender_is_postmaster_at_helo(dns_server):
    dns_server.zone.add("mail.example.org", 'TXT "v=spf1 a -all"', "A 192.0.2.10")
    outcome = check(dns_server, sender="")
    assert results(outcome) == "mx.example.net;\tspf=pass smtp.helo=mail.example.org"
    assert [s.symbol.name for s in outcome.symbols] == ["SPF_PASS"]


def test_a_result_filterd_spf_reject_names_refuses_mail_from_as_policyd_spf_does(dns_server):
    dns_server.zone.add("example.org", 'TXT "v=spf1 -all"')
    outcome = check(dns_server, filterd_spf_reject="fail, permerror")
    assert outcome.action is Action.REJECT
    assert outcome.verdict.reply() == (550, "5.7.23", "Message rejected due to: SPF fail - not authorized")
    assert check(dns_server).accepted


def test_a_failing_helo_name_refuses_before_the_sender_is_checked(dns_server):
    dns_server.zone.add("mail.example.org", 'TXT "v=spf1 -all"')
    dns_server.zone.add("example.org", 'TXT "v=spf1 +all"')
    outcome = check(dns_server, filterd_spf_reject="fail")
    assert outcome.action is Action.REJECT and [c.verdict.auth_results[0].result for c in outcome.trace] == ["fail"]


def test_a_temporary_error_named_in_filterd_spf_reject_defers(dns_server):
    dns_server.zone.fail("example.org", "servfail")
    outcome = check(dns_server, helo="[192.0.2.10]", filterd_spf_reject="temperror")
    assert outcome.action is Action.DEFER and outcome.verdict.reply()[:2] == (451, "4.4.3")


@pytest.mark.parametrize("session", [Session(client_address=CLIENT, helo=HELO, sasl_username="user"),
                                     Session(client_address="unknown", helo=HELO)])
def test_an_authenticated_client_and_one_without_an_address_are_not_checked(session):
    settings = Settings(resolver=None, reject=frozenset(RESULTS), weights={})
    assert asyncio.run(spf_plugin.mail_from(session, "user@example.org", settings)) is None


def test_an_ipv6_client_is_checked(dns_server):
    dns_server.zone.add("example.org", 'TXT "v=spf1 ip6:2001:db8::/32 -all"')
    outcome = run_plugin(spf_plugin, message=make_message(), settings={"filterd_dns_servers": dns_server.address},
                         sender="user@example.org", client_address="2001:db8::1", helo="[IPv6:2001:db8::1]")
    assert "spf=pass smtp.mailfrom=user@example.org" in results(outcome)


@pytest.mark.parametrize("sender, value", [
    ("user@example.org", "Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.10; helo=mail.example.org; "
                         "envelope-from=user@example.org; receiver=mx.example.net"),
    ("", "None (helo) identity=helo; client-ip=192.0.2.10; helo=mail.example.org; envelope-from=<>; "
         "receiver=mx.example.net"),
])
def test_received_spf_as_policyd_spf_writes_it_when_asked(dns_server, sender, value):
    dns_server.zone.add("example.org", 'TXT "v=spf1 ip4:192.0.2.10 -all"')
    outcome = check(dns_server, sender=sender, filterd_spf_received_header="yes")
    assert outcome.message.get_all("Received-SPF") == [value]
    assert "Received-SPF" not in check(dns_server, sender=sender).message


@pytest.mark.parametrize("name, value", [("filterd_spf_reject", "fial"), ("filterd_spf_weights", "pass=x"),
                                         ("filterd_spf_weights", "nothing=1")])
def test_a_bad_setting_is_refused(dns_server, name, value):
    with pytest.raises(ConfigError, match=name):
        check(dns_server, **{name: value})
