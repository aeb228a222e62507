"""permit_dnswl_client and permit_rhswl_client: permit what a DNS allowlist lists, never an unauthorized relay."""

from __future__ import annotations

from filterd.verdict import Action

from .checks import settings, verdict_at_rcpt


def allowlist(dns_server, restriction: str):
    return settings(smtpd_recipient_restrictions=f"{restriction}, reject", filterd_dns_servers=dns_server.address,
                    filterd_dns_timeout="2s")


def test_a_listed_address_is_permitted_but_not_to_relay(dns_server):
    dns_server.zone.add("1.100.51.198.wl.test", "A 127.0.0.2")
    listed = allowlist(dns_server, "permit_dnswl_client wl.test=127.0.0.[1..2]")
    assert verdict_at_rcpt(listed) is None
    assert verdict_at_rcpt(listed, client="198.51.100.2").action is Action.REJECT
    assert verdict_at_rcpt(allowlist(dns_server, "permit_dnswl_client wl.test=127.0.0.3")).action is Action.REJECT
    relaying = settings(smtpd_relay_restrictions="permit_dnswl_client wl.test, reject_unauth_destination",
                        filterd_dns_servers=dns_server.address)
    assert verdict_at_rcpt(relaying, recipient="b@elsewhere.example").action is Action.REJECT


def test_a_listed_name_is_permitted_and_a_failing_list_defers_the_reject(dns_server):
    dns_server.zone.add("mx.good.test.wl.test", "A 127.0.0.2")
    dns_server.zone.fail("mx.bad.test.wl.test", "servfail")
    names = allowlist(dns_server, "permit_rhswl_client wl.test")
    assert verdict_at_rcpt(names, client_name="mx.good.test") is None
    assert verdict_at_rcpt(names, client_name="unknown").action is Action.REJECT
    assert verdict_at_rcpt(names, client_name="mx.bad.test").reply() == (
        450, "4.7.1", "<mx.bad.test>: Client host rejected: Service unavailable")
