"""The SMTP front end's settings, read once from the configuration."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from filterd.addresses import AddressRules
from filterd.debug_peers import DebugPeers
from filterd.domain_list import DomainList
from filterd.network import ClientList, in_networks, networks
from filterd.smtp.auth import SaslSettings
from filterd.smtp.ehlo import discards
from filterd.smtp.footer import RejectFooter
from filterd.smtp.forbidden import DEFAULT as DEFAULT_FORBIDDEN, CommandList, ForbiddenCommands
from filterd.smtp.starttls import ServerTls
from filterd.tables import open_tables


@dataclass(frozen=True)
class SmtpSettings:
    """Postfix's smtpd parameters that the front end obeys."""

    myhostname: str = "localhost"
    banner: str = "localhost ESMTP filterd"
    message_size_limit: int = 10240000
    header_size_limit: int = 102400
    recipient_limit: int = 1000
    recipient_overshoot_limit: int = 1000
    """RCPTs past smtpd_recipient_limit answered 452 without counting as errors (Postfix counts them as done)."""
    timeout: float = 300.0
    error_sleep_time: float = 1.0
    soft_error_limit: int = 10
    hard_error_limit: int = 20
    junk_command_limit: int = 100
    helo_required: bool = False
    forbid_bare_newline: str = "normalize"
    bare_newline_reject_code: int = 550
    xforward_hosts: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    bare_newline_exclusions: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    spool_memory_limit: int = 65536
    spool_directory: str | None = None
    peername_lookup: bool = True
    strict_rfc821: bool = False
    reject_footer: RejectFooter = RejectFooter()
    noop_commands: CommandList = CommandList()
    forbid_unauth_pipelining: bool = False
    delay_open: bool = True
    client_port_logging: bool = False
    """smtpd_delay_open_until_valid_rcpt: the queue id at the first valid recipient (no: at MAIL)."""
    sasl_exceptions: ClientList = ClientList()
    """smtpd_sasl_exceptions_networks: the clients EHLO does not offer AUTH to."""
    xclient_hosts: ClientList = ClientList()
    """smtpd_authorized_xclient_hosts: the clients that may stand in for others (XCLIENT)."""
    command_filter: tuple = ()
    """smtpd_command_filter's tables: a command line they map is replaced by their result."""
    upstream_proxy: str = ""
    """smtpd_upstream_proxy_protocol: "haproxy" to read the load balancer's PROXY handshake before the greeting."""
    upstream_proxy_timeout: float = 5.0
    families: frozenset[int] = frozenset({4, 6})
    """The IP versions inet_protocols names."""
    service: str = "smtpd"
    addresses: AddressRules = AddressRules()
    forbidden: ForbiddenCommands = ForbiddenCommands.parse(DEFAULT_FORBIDDEN)
    soft_bounce: bool = False
    delay_reject: bool = True
    debug_peers: DebugPeers = DebugPeers()
    tls: ServerTls = ServerTls()
    sasl: SaslSettings | None = None
    disable_vrfy_command: bool = False
    ehlo_discards: frozenset[str] = frozenset()
    ehlo_discard_maps: tuple = ()
    smtputf8: bool = True
    """smtputf8_enable: without it, SMTPUTF8 is neither offered nor taken (as if discarded, unlogged), VRFY's syntax
    reply does not name it and command lines are not checked for valid UTF-8."""
    flush_domains: DomainList = DomainList()
    queue_stage: bool = False
    """Run the after-queue `queue` hook in session, before the message goes on (the `filter` listener: the MTA in
    front has the message queued)."""
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config, service: str = "smtpd") -> SmtpSettings:
        return cls(
            myhostname=config.get("myhostname"),
            banner=config.get("smtpd_banner"),
            message_size_limit=config.int("message_size_limit"),
            header_size_limit=config.int("header_size_limit"),
            recipient_limit=config.int("smtpd_recipient_limit"),
            recipient_overshoot_limit=config.int("smtpd_recipient_overshoot_limit"),
            timeout=config.time("smtpd_timeout"),
            error_sleep_time=config.time("smtpd_error_sleep_time"),
            soft_error_limit=config.int("smtpd_soft_error_limit"),
            hard_error_limit=config.int("smtpd_hard_error_limit"),
            junk_command_limit=config.int("smtpd_junk_command_limit"),
            helo_required=config.bool("smtpd_helo_required"),
            forbid_bare_newline=config.get("smtpd_forbid_bare_newline").lower(),
            bare_newline_reject_code=config.int("smtpd_forbid_bare_newline_reject_code"),
            xforward_hosts=networks(config.list("smtpd_authorized_xforward_hosts")),
            bare_newline_exclusions=networks(config.list("smtpd_forbid_bare_newline_exclusions")),
            spool_memory_limit=config.size("filterd_spool_memory_limit"),
            spool_directory=None,
            peername_lookup=config.bool("smtpd_peername_lookup"),
            strict_rfc821=config.bool("strict_rfc821_envelopes"),
            reject_footer=RejectFooter.from_config(config),
            noop_commands=CommandList.parse(config.get("smtpd_noop_commands")),
            forbid_unauth_pipelining=config.bool("smtpd_forbid_unauth_pipelining"),
            delay_open=config.bool("smtpd_delay_open_until_valid_rcpt"),
            client_port_logging=config.bool("smtpd_client_port_logging"),
            sasl_exceptions=ClientList.parse(config.list("smtpd_sasl_exceptions_networks")),
            xclient_hosts=ClientList.parse(config.list("smtpd_authorized_xclient_hosts")),
            command_filter=tuple(open_tables(config.get("smtpd_command_filter"))),
            upstream_proxy=config.get("smtpd_upstream_proxy_protocol"),
            upstream_proxy_timeout=config.time("smtpd_upstream_proxy_timeout"),
            families=_families(config.list("inet_protocols")),
            service=service,
            addresses=AddressRules.from_config(config),
            forbidden=ForbiddenCommands.parse(config.get("smtpd_forbidden_commands")),
            soft_bounce=config.bool("soft_bounce"),
            delay_reject=config.bool("smtpd_delay_reject"),
            debug_peers=DebugPeers.from_config(config),
            tls=ServerTls.from_config(config, service),
            sasl=SaslSettings.from_config(config) if service != "sink" else None,
            disable_vrfy_command=config.bool("disable_vrfy_command"),
            ehlo_discards=discards(config.get("smtpd_discard_ehlo_keywords")),
            ehlo_discard_maps=tuple(open_tables(config.get("smtpd_discard_ehlo_keyword_address_maps"))),
            flush_domains=DomainList.from_config(config, "fast_flush_domains"),
            smtputf8=config.bool("smtputf8_enable"),
        )

    def discarded(self, address: str) -> frozenset[str]:
        """The EHLO keywords this client does not get: smtpd_discard_ehlo_keyword_address_maps' result for its
        address, else smtpd_discard_ehlo_keywords, as Postfix's smtpd decides once a connection."""
        for table in self.ehlo_discard_maps:
            found = table.lookup(address)
            if found is not None:
                return discards(found)
        return self.ehlo_discards

    def xclient_allowed(self, name: str, address: str) -> bool:
        """smtpd_authorized_xclient_hosts: this client (the simulated one after an XCLIENT) may use XCLIENT."""
        return self.xclient_hosts.matches(name, address)

    def xforward_allowed(self, address: str) -> bool:
        return in_networks(address, self.xforward_hosts)

    def bare_newline_mode(self, address: str) -> str:
        """Excluded clients get bare newlines normalised even when the setting says reject."""
        if self.forbid_bare_newline == "reject" and not in_networks(address, self.bare_newline_exclusions):
            return "reject"
        return "normalize"


def _families(protocols: list[str]) -> frozenset[int]:
    names = {name.lower() for name in protocols}
    return frozenset(version for version in (4, 6) if "all" in names or f"ipv{version}" in names)
