"""The dmarc plugin after the real spf plugin, against records from the loopback DNS server: pass, fail, none and
temperror; alignment relaxed and strict; p, sp and pct; the administrator's action for each policy; and one
Authentication-Results header with every method's result."""

from __future__ import annotations

import pytest

import filterd.plugins.dmarc as dmarc_plugin
import filterd.plugins.spf as spf_plugin
from filterd import Action, ConfigError, Verdict, hookimpl
from filterd.plugins.dmarc.evaluation import evaluate
from filterd.plugins.dmarc.organizational_domain import PublicSuffixList
from filterd.plugins.dmarc.record import Record, parse
from filterd.testing import make_message, run_plugin

CLIENT, HELO = "192.0.2.10", "mail.example.org"
SUFFIXES = PublicSuffixList.read(__import__("pathlib").Path("/usr/share/publicsuffix/public_suffix_list.dat"))


class Dkim:
    """Stands for the dkim plugin: reports its signatures' results as it does."""

    def __init__(self, *results: tuple[str, str]):
        self.results = results

    @hookimpl
    def end_of_message(self):
        verdict = Verdict()
        for result, domain in self.results:
            verdict = verdict.with_auth_result("dkim", result, "", {"header.d": domain, "header.s": "sel"})
        return verdict.with_auth_result("arc", "none")


def run(dns_server, *, sender="user@example.org", author="author@example.org", dkim=(), **settings):
    settings = {"filterd_dns_servers": dns_server.address, "myhostname": "mx.example.net", **settings}
    return run_plugin(spf_plugin, Dkim(*dkim), dmarc_plugin, message=make_message(sender=author), settings=settings,
                      sender=sender, client_address=CLIENT, helo=HELO)


def dmarc(outcome) -> str:
    value = outcome.message.get("Authentication-Results") or ""
    return next(part.strip() for part in value.split(";") if part.strip().startswith("dmarc="))


@pytest.fixture
def zone(dns_server):
    dns_server.zone.add("example.org", 'TXT "v=spf1 ip4:192.0.2.10 -all"')
    dns_server.zone.add("elsewhere.example", 'TXT "v=spf1 -all"')
    return dns_server.zone


def test_an_aligned_spf_pass_passes_relaxed_alignment_taking_the_organizational_domain(dns_server, zone):
    zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=reject"')
    zone.add("bounces.example.org", 'TXT "v=spf1 ip4:192.0.2.10 -all"')
    outcome = run(dns_server, sender="b@bounces.example.org")
    assert outcome.accepted and dmarc(outcome) == "dmarc=pass reason=\"p=reject dis=none\" header.from=example.org"
    assert [s.symbol.name for s in outcome.symbols] == ["SPF_PASS", "DMARC_PASS"]


def test_strict_spf_alignment_wants_the_same_domain(dns_server, zone):
    zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=reject; aspf=s"')
    zone.add("bounces.example.org", 'TXT "v=spf1 ip4:192.0.2.10 -all"')
    outcome = run(dns_server, sender="b@bounces.example.org")
    assert outcome.action is Action.REJECT


def test_an_aligned_dkim_pass_passes_when_spf_fails(dns_server, zone):
    zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=reject"')
    outcome = run(dns_server, sender="user@elsewhere.example", dkim=[("fail", "example.org"),
                                                                     ("pass", "mail.example.org")])
    assert outcome.accepted and dmarc(outcome).startswith("dmarc=pass")


def test_a_dkim_pass_for_another_domain_does_not_align(dns_server, zone):
    zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=reject; adkim=s"')
    outcome = run(dns_server, sender="user@elsewhere.example", dkim=[("pass", "mail.example.org")])
    assert outcome.action is Action.REJECT


def test_policy_reject_refuses_with_opendmarc_s_words(dns_server, zone):
    zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=reject"')
    outcome = run(dns_server, sender="user@elsewhere.example")
    assert outcome.verdict.reply() == (550, "5.7.1", "rejected by DMARC policy for example.org")
    assert [s.symbol.name for s in outcome.symbols] == ["SPF_FAIL", "DMARC_REJECT"]


def test_policy_quarantine_holds(dns_server, zone):
    zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=quarantine"')
    outcome = run(dns_server, sender="user@elsewhere.example")
    assert outcome.action is Action.HOLD and outcome.hold == "DMARC policy quarantine for example.org"
    assert dmarc(outcome) == 'dmarc=fail reason="p=quarantine dis=quarantine" header.from=example.org'


def test_policy_none_only_reports(dns_server, zone):
    zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=none"')
    outcome = run(dns_server, sender="user@elsewhere.example")
    assert outcome.accepted and outcome.action is Action.DUNNO
    assert dmarc(outcome) == 'dmarc=fail reason="p=none dis=none" header.from=example.org'
    assert outcome.symbols[-1].symbol.name == "DMARC_FAIL"


@pytest.mark.parametrize("settings, action", [
    ({"filterd_dmarc_reject_action": "quarantine"}, Action.HOLD),
    ({"filterd_dmarc_reject_action": "accept"}, Action.DUNNO),
])
def test_the_administrator_chooses_the_action_for_a_policy(dns_server, zone, settings, action):
    zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=reject"')
    outcome = run(dns_server, sender="user@elsewhere.example", **settings)
    assert outcome.action is action and dmarc(outcome).startswith("dmarc=fail")


def test_no_record_is_none(dns_server, zone):
    outcome = run(dns_server, sender="user@elsewhere.example")
    assert outcome.accepted and dmarc(outcome) == "dmarc=none header.from=example.org"


def test_two_records_are_none(dns_server, zone):
    zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=reject"', 'TXT "v=DMARC1; p=none"')
    assert dmarc(run(dns_server, sender="user@elsewhere.example")) == "dmarc=none header.from=example.org"


def test_a_dns_failure_is_temperror_and_lets_the_message_through(dns_server, zone):
    zone.fail("_dmarc.example.org", "servfail")
    outcome = run(dns_server, sender="user@elsewhere.example")
    assert outcome.accepted and dmarc(outcome) == "dmarc=temperror header.from=example.org"


def test_no_single_from_domain_is_permerror(dns_server, zone):
    outcome = run(dns_server, author="one@example.org, two@example.net")
    assert outcome.accepted and dmarc(outcome) == "dmarc=permerror"


def test_a_subdomain_takes_sp_from_its_organizational_domain_s_record(dns_server, zone):
    zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=reject; sp=none"')
    outcome = run(dns_server, sender="user@elsewhere.example", author="a@news.example.org")
    assert outcome.accepted and dmarc(outcome) == 'dmarc=fail reason="p=none dis=none" header.from=news.example.org'
    zone.remove("_dmarc.example.org")
    zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=none; sp=reject"')
    assert run(dns_server, sender="user@elsewhere.example", author="a@news.example.org").action is Action.REJECT


def test_a_subdomain_s_own_record_takes_p(dns_server, zone):
    zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=none; sp=none"')
    zone.add("_dmarc.news.example.org", 'TXT "v=DMARC1; p=reject; sp=none"')
    assert run(dns_server, sender="user@elsewhere.example", author="a@news.example.org").action is Action.REJECT


@pytest.mark.parametrize("policy, pct, action", [
    ("reject", 0, Action.HOLD), ("quarantine", 0, Action.DUNNO), ("reject", 100, Action.REJECT),
])
def test_pct_left_out_messages_get_the_next_weaker_policy(dns_server, zone, policy, pct, action):
    zone.add("_dmarc.example.org", f'TXT "v=DMARC1; p={policy}; pct={pct}"')
    assert run(dns_server, sender="user@elsewhere.example").action is action


def test_pct_applies_the_policy_to_that_share_of_messages():
    record = Record("example.org", "reject", "reject", pct=30)
    assert [evaluate("example.org", record, (), SUFFIXES, draw).disposition for draw in (0, 29.9, 30, 99.9)] == [
        "reject", "reject", "quarantine", "quarantine"]


def test_one_header_holds_every_method_s_result(dns_server, zone):
    zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=reject"')
    outcome = run(dns_server, dkim=[("pass", "example.org")])
    [header] = outcome.message.get_all("Authentication-Results")
    assert [part.split()[0] for part in header.split(";")[1:]] == [
        "spf=none", "spf=pass", "dkim=pass", "arc=none", "dmarc=pass"]


@pytest.mark.parametrize("text, expected", [
    ("v=DMARC1; p=reject; sp=none; pct=20; adkim=s; aspf=s", Record("d", "reject", "none", 20, "s", "s")),
    ("v=DMARC1;p=quarantine", Record("d", "quarantine", "quarantine")),
    ("v=DMARC1; p=bogus; rua=mailto:r@d", Record("d", "none", "none")),
    ("v=DMARC1; p=bogus", None),
    ("p=reject; v=DMARC1", None),
    ("v=spf1 -all", None),
    ("v=DMARC1; p=reject; pct=250", Record("d", "reject", "reject", 100)),
])
def test_records_are_read_as_rfc_7489_says(text, expected):
    assert parse("d", text) == expected


@pytest.mark.parametrize("domain, organizational", [
    ("mail.example.org", "example.org"), ("a.b.example.co.uk", "example.co.uk"), ("co.uk", "co.uk"),
    ("x.y.example.ck", "y.example.ck"), ("www.ck", "www.ck"), ("a.www.ck", "www.ck"),
    ("host.unknown-tld", "host.unknown-tld"), ("a.b.xn--p1ai", "b.xn--p1ai"), ("Mail.Example.ORG.", "example.org"),
])
def test_the_organizational_domain_comes_from_debian_s_public_suffix_list(domain, organizational):
    assert SUFFIXES.organizational_domain(domain) == organizational


def test_a_missing_public_suffix_list_stops_filterd_at_start_up(dns_server, tmp_path):
    with pytest.raises(ConfigError, match="filterd_dmarc_public_suffix_list: .*apt-get install publicsuffix"):
        run(dns_server, filterd_dmarc_public_suffix_list=str(tmp_path / "none.dat"))
