"""The restrictions' settings, read once per chain from main.cf: the lists, parsed, and what the restrictions
consult (mynetworks, the address rules, relay_domains, the reply codes, the DNS resolver)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from filterd import (AddressRules, CanonicalMaps, Delimiters, DomainList, ParameterError, Resolver, TableError,
                     TransportMaps, VirtualAliases, networks, one_of, open_tables, policy_client)

from .classes import restriction_class
from .lists import Item, names, parse, words
from .names import Restriction

CLIENT, HELO, SENDER, RELAY, RECIPIENT, DATA, END_OF_DATA, ETRN = LISTS = (
    "smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions", "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions", "smtpd_data_restrictions", "smtpd_end_of_data_restrictions",
    "smtpd_etrn_restrictions")
CODES = ("relay_domains_reject_code", "access_map_reject_code", "access_map_defer_code", "unknown_address_reject_code",
         "non_fqdn_reject_code", "invalid_hostname_reject_code", "maps_rbl_reject_code", "reject_code", "defer_code",
         "unknown_client_reject_code", "unknown_hostname_reject_code", "multi_recipient_bounce_reject_code",
         "plaintext_reject_code", "unknown_local_recipient_reject_code", "unknown_relay_recipient_reject_code",
         "unknown_virtual_alias_reject_code", "unknown_virtual_mailbox_reject_code")
TEMPFAIL_ACTIONS = ("unknown_helo_hostname_tempfail_action", "unknown_address_tempfail_action")
"""What a reject-type restriction does when the DNS fails for now: defer, or defer_if_permit."""
RELAY_CONTROL = frozenset({"reject_unauth_destination", "defer_unauth_destination", "reject", "defer",
                           "defer_if_permit"})
"""smtpd's `working instances`: one of them in the relay or recipient restrictions, or filterd will not start."""


@dataclass(frozen=True)
class Settings:
    """What every restriction may consult, the same for every session of a chain."""

    lists: dict[str, tuple[Item, ...]]
    delay_reject: bool = True
    mynetworks: tuple = ()
    rules: AddressRules = field(default_factory=AddressRules)
    relay_domains: DomainList = field(default_factory=DomainList)
    allow_untrusted_routing: bool = False
    parent_matches: frozenset[str] = frozenset()
    codes: dict[str, int] = field(default_factory=dict)
    null_key: str = "<>"
    login_maps: tuple = ()
    resolver: Any = None
    policy: Any = None
    """The clients of the policy services check_policy_service names (filterd.policy_client.PolicyClients)."""

    tempfail_actions: dict[str, str] = field(default_factory=dict)
    """unknown_helo_hostname_tempfail_action and unknown_address_tempfail_action: defer or defer_if_permit."""
    classes: dict[str, Restriction] = field(default_factory=dict)
    """The restriction classes by name (smtpd_restriction_classes)."""
    sasl_enabled: bool = False
    relay_first: bool = True
    """smtpd_relay_before_recipient_restrictions: RCPT's relay list before its recipient list."""
    """smtpd_sasl_auth_enable: without it, check_sasl_access is ignored with a warning, as in Postfix."""
    mx_backup_networks: tuple = ()
    """permit_mx_backup_networks: where the primary MX hosts of a domain permit_mx_backup accepts must be."""
    address_types: tuple[str, ...] = ("A", "AAAA")
    """The address records a host's addresses are looked up with, as inet_protocols allows (A for ipv4, AAAA for
    ipv6)."""
    local_recipient_maps: tuple = ()
    relay_recipient_maps: tuple = ()
    virtual_mailbox_maps: tuple = ()
    """The valid recipients of the local, relay and virtual mailbox domains (reject_unlisted_recipient)."""
    reject_unlisted_recipient: bool = True
    reject_unlisted_sender: bool = False
    """smtpd_reject_unlisted_sender: the sender's table check after the sender restrictions (see `named`)."""
    transports: TransportMaps = TransportMaps()
    """transport_maps: an address they send to error: or retry: is refused at RCPT (unlisted.py)."""
    show_unknown_table: bool = True
    aliases: VirtualAliases = VirtualAliases()
    """virtual_alias_maps: an address they list is a valid recipient, whatever its class."""
    canonical: CanonicalMaps = CanonicalMaps()
    """canonical_maps and its kin: an address they list is valid too (sender_canonical_maps for senders)."""
    delimiters: Delimiters = Delimiters()
    """recipient_delimiter: user+foo@domain is also looked up as user@domain (tables of recipients, access tables)."""
    unknown_recipient_checks: bool = True
    """Off with receive_override_options = no_unknown_recipient_checks: no recipient table is asked."""
    results_read: dict[str, tuple[Item, ...]] = field(default_factory=dict, compare=False)
    """Access table results that are restriction lists, as read (access.nested)."""

    @classmethod
    def from_config(cls, config) -> Settings:
        class_lists: dict[str, tuple[Item, ...]] = {}
        classes = {name: restriction_class(name, class_lists) for name in config.list("smtpd_restriction_classes")}
        class_lists.update({name: read_list(config, name, classes) for name in classes})
        lists = {name: read_list(config, name, classes) for name in LISTS}
        require_relay_control(lists)
        return cls(lists, config.bool("smtpd_delay_reject"), networks(config.list("mynetworks")),
                   AddressRules.from_config(config), read_domains(config, "relay_domains"),
                   config.bool("allow_untrusted_routing"), frozenset(config.list("parent_domain_matches_subdomains")),
                   {name: config.int(name) for name in CODES}, config.get("smtpd_null_access_lookup_key"),
                   tuple(open_tables(config.get("smtpd_sender_login_maps"))), Resolver.from_config(config),
                   classes=classes, policy=policy_client.PolicyClients.from_config(config),
                   tempfail_actions={name: one_of(name, config.get(name), ("defer", "defer_if_permit"))
                                     for name in TEMPFAIL_ACTIONS},
                   mx_backup_networks=networks(config.list("permit_mx_backup_networks")),
                   sasl_enabled=config.bool("smtpd_sasl_auth_enable"),
                   relay_first=config.bool("smtpd_relay_before_recipient_restrictions"),
                   address_types=address_types(config.list("inet_protocols")),
                   local_recipient_maps=tuple(open_tables(config.get("local_recipient_maps"))),
                   relay_recipient_maps=tuple(open_tables(config.get("relay_recipient_maps"))),
                   virtual_mailbox_maps=tuple(open_tables(config.get("virtual_mailbox_maps"))),
                   reject_unlisted_recipient=config.bool("smtpd_reject_unlisted_recipient"),
                   reject_unlisted_sender=config.bool("smtpd_reject_unlisted_sender"),
                   transports=transport_maps(config),
                   show_unknown_table=config.bool("show_user_unknown_table_name"),
                   aliases=virtual_aliases(config), canonical=canonical_maps(config),
                   delimiters=Delimiters.from_config(config),
                   unknown_recipient_checks="no_unknown_recipient_checks" not in config.list(
                       "receive_override_options"))

    def named(self, *names: str) -> list[tuple[str, tuple[Item, ...]]]:
        """The lists of these names that are not empty, with their names; with smtpd_reject_unlisted_sender the
        sender's list is followed by a list of its own holding reject_unlisted_sender, as smtpd_check_mail() checks
        the sender's table after the sender restrictions unless they refused (a permit ends their list only)."""
        found = []
        for name in names:
            if self.lists[name]:
                found.append((name, self.lists[name]))
            if name == SENDER and self.reject_unlisted_sender:
                found.append((name, implicit_sender_check()))
        return found

    def at_rcpt(self) -> list[tuple[str, tuple[Item, ...]]]:
        """The lists RCPT evaluates: client, helo and sender first when smtpd_delay_reject, then relay and recipient."""
        return self.named(*((CLIENT, HELO, SENDER) if self.delay_reject else ()), *self.recipient_lists)

    @property
    def recipient_lists(self) -> tuple[str, str]:
        """The relay and recipient lists in the order RCPT evaluates them."""
        return (RELAY, RECIPIENT) if self.relay_first else (RECIPIENT, RELAY)

    def parent_style(self, feature: str) -> bool:
        """Whether `example.com` matches subdomains for this feature (parent_domain_matches_subdomains)."""
        return feature in self.parent_matches


def transport_maps(config) -> TransportMaps:
    """transport_maps for check_rcpt_maps. A table that cannot be opened is left to the master, which stops start-up
    (and a reload) on it with its main.cf line, logged, as it opens the queue manager's tables."""
    try:
        return TransportMaps.from_config(config)
    except TableError:
        return TransportMaps()


def canonical_maps(config) -> CanonicalMaps:
    """The canonical maps for check_rcpt_maps; a table that cannot be opened stops start-up in the master."""
    try:
        return CanonicalMaps.from_config(config)
    except TableError:
        return CanonicalMaps()


def virtual_aliases(config) -> VirtualAliases:
    """virtual_alias_maps for check_rcpt_maps; a table that cannot be opened stops start-up in the master."""
    try:
        return VirtualAliases.from_config(config)
    except TableError:
        return VirtualAliases()


@cache
def implicit_sender_check() -> tuple[Item, ...]:
    """smtpd_reject_unlisted_sender's list: reject_unlisted_sender alone (parsed once its module registered it)."""
    return parse("reject_unlisted_sender")


def address_types(protocols: list[str]) -> tuple[str, ...]:
    """inet_protocols as the address records to ask for."""
    wanted = {protocol.lower() for protocol in protocols}
    if "all" in wanted:
        return ("A", "AAAA")
    return tuple(rdtype for protocol, rdtype in (("ipv4", "A"), ("ipv6", "AAAA")) if protocol in wanted)


def require_relay_control(lists: dict[str, tuple[Item, ...]]) -> None:
    """Relay and recipient restrictions without a restriction that refuses by default are an open relay: refused."""
    if not (names(lists[RELAY]) | names(lists[RECIPIENT])) & RELAY_CONTROL:
        raise ParameterError(RELAY, "in smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least "
                             f"one working instance of: {', '.join(sorted(RELAY_CONTROL))}")


def read_domains(config, name: str) -> DomainList:
    try:
        return DomainList.from_config(config, name)
    except TableError as exc:
        raise ParameterError(name, str(exc)) from None


def read_list(config, name: str, classes: dict[str, Restriction]) -> tuple[Item, ...]:
    try:
        return parse(config.get(name), classes)
    except ValueError as exc:
        raise ParameterError(name, str(exc)) from None
