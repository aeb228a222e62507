"""permit_mx_backup: a domain whose MX hosts list this host, but not among the most preferred ones."""

from __future__ import annotations

from filterd.verdict import Action

from .checks import settings, verdict_at_rcpt


def backup(dns_server, **values: str):
    return settings(smtpd_relay_restrictions="permit_mx_backup, reject_unauth_destination", inet_protocols="ipv4",
                    filterd_dns_servers=dns_server.address, filterd_dns_timeout="2s", **values)


def zone(dns_server):
    dns_server.zone.add("self.test", "A 127.0.0.1")
    dns_server.zone.add("primary.test", "A 192.0.2.50")
    dns_server.zone.add("backup.test", "MX 10 primary.test.", "MX 20 self.test.")
    dns_server.zone.add("first.test", "MX 10 self.test.", "MX 20 primary.test.")
    dns_server.zone.add("named.test", "MX 10 primary.test.", "MX 20 local.example.")
    dns_server.zone.add("broken.test", "MX 10 gone.test.", "MX 20 self.test.")


def test_a_backup_mx_host_by_address_or_by_name_is_permitted(dns_server):
    zone(dns_server)
    assert verdict_at_rcpt(backup(dns_server), recipient="u@backup.test") is None
    assert verdict_at_rcpt(backup(dns_server), recipient="u@named.test") is None
    assert verdict_at_rcpt(backup(dns_server), recipient="u@first.test").text == "<u@first.test>: Relay access denied"
    assert verdict_at_rcpt(backup(dns_server), recipient="u@nx.test").action is Action.REJECT


def test_permit_mx_backup_networks_holds_the_primary_hosts(dns_server):
    zone(dns_server)
    assert verdict_at_rcpt(backup(dns_server, permit_mx_backup_networks="192.0.2.0/24"), recipient="u@backup.test") \
        is None
    assert verdict_at_rcpt(backup(dns_server, permit_mx_backup_networks="10.0.0.0/8"),
                           recipient="u@backup.test").action is Action.REJECT


def test_a_host_that_cannot_be_looked_up_defers_the_reject(dns_server):
    zone(dns_server)
    assert verdict_at_rcpt(backup(dns_server), recipient="u@broken.test") is None
    checked = backup(dns_server, permit_mx_backup_networks="192.0.2.0/24")
    assert verdict_at_rcpt(checked, recipient="u@broken.test").reply() == (
        450, "4.4.4", "<u@broken.test>: Recipient address rejected: Unable to look up mail exchanger host gone.test: "
                      "Name or service not known")
