"""The parameters filterd knows: Postfix's names, meanings and defaults, plus filterd's own; the queue manager's
are in filterd.parameters.queue."""

from __future__ import annotations

import re
import socket

from filterd.config import entry as _p
from filterd.config import Config, Parameter
from filterd.interfaces import mynetworks, own_interfaces
from filterd.parameters.canonical import CANONICAL_CLASSES, CANONICAL_PARAMETERS
from filterd.parameters.dns import DNS_PARAMETERS, parse_dns_server
from filterd.parameters.filters import FILTER_PARAMETERS, RECEIVE_OVERRIDES
from filterd.parameters.pipe_service import PIPE_SERVICE_PARAMETERS
from filterd.parameters.policy import POLICY_PARAMETERS, check_policy_values
from filterd.parameters.queue import (ADDRESS_PREFERENCES, DNS_SUPPORT_LEVELS, HOST_LOOKUPS, INET_PROTOCOL_NAMES,
                                      QUEUE_PARAMETERS)
from filterd.parameters.restrictions import RESTRICTION_PARAMETERS
from filterd.parameters.sasl import SASL_PARAMETERS, validate_sasl
from filterd.parameters.tls import TLS_PARAMETERS, validate_tls
from filterd.parameters.virtual import VIRTUAL_PARAMETERS

LISTENER_MODES = ("proxy", "filter", "sink", "relay", "reinject", "milter", "policy", "pipe")
ERROR_ACTIONS = ("accept", "reject", "tempfail", "quarantine")
BARE_NEWLINE_MODES = ("normalize", "yes", "reject", "no")
UPSTREAM_PROXY_PROTOCOLS = ("", "haproxy")


def _default_hostname() -> str:
    """The machine's FQDN, or a portable placeholder when it has none."""
    try:
        name = socket.getfqdn()
    except OSError:
        name = ""
    return name if "." in name else "localhost.localdomain"


def _own_networks(config: Config) -> str:
    """mynetworks when main.cf does not set it: the machine's own networks in mynetworks_style's manner."""
    try:
        own = own_interfaces(config.list("inet_interfaces"), config.list("inet_protocols"))
    except ValueError as exc:
        raise config.error("inet_interfaces", str(exc)) from None
    try:
        return mynetworks(config.get("mynetworks_style"), own)
    except ValueError as exc:
        raise config.error("mynetworks_style", str(exc)) from None


CORE_PARAMETERS: dict[str, Parameter] = dict([
    _p("myhostname", _default_hostname(), doc="The internet hostname of this mail system."),
    _p("mydomain", "localdomain", doc="The internet domain name of this mail system."),
    _p("myorigin", "$myhostname", doc="The domain name that locally-posted mail appears to come from."),
    _p("mydestination", "$myhostname, localhost.$mydomain, localhost", "list",
       doc="The list of domains that are delivered locally."),
    ("mynetworks", Parameter("mynetworks", "", "list",
                             'The list of "trusted" remote SMTP clients that have more privileges than "strangers".',
                             compute=_own_networks)),
    _p("mynetworks_style", "${{$compatibility_level} <level {2} ? {subnet} : {host}}",
       doc="The method to generate the default value for the mynetworks parameter: host, subnet or class."),
    _p("allow_untrusted_routing", "no", "bool",
       doc="Forward mail with sender-specified routing (user[@%!]remote[@%!]site) from untrusted clients to "
           "destinations matching $relay_domains."),
    _p("allow_percent_hack", "yes", "bool",
       doc='Enable the rewriting of the form "user%domain" to "user@domain".'),
    _p("swap_bangpath", "yes", "bool", doc='Enable the rewriting of "site!user" into "user@site".'),
    _p("resolve_dequoted_address", "yes", "bool",
       doc='Resolve a recipient address safely instead of correctly, by looking inside quotes.'),
    _p("resolve_null_domain", "no", "bool",
       doc='Resolve an address that ends in the "@" null domain as if the local hostname were specified.'),
    _p("inet_interfaces", "all", "list", doc="The network interface addresses that this mail system receives mail on."),
    _p("proxy_interfaces", "", "list",
       doc="The remote network interface addresses that this mail system receives mail on by way of a proxy or "
           "network address translation unit."),
    _p("always_add_missing_headers", "no", "bool",
       doc="Always add (Resent-) From:, To:, Date: or Message-ID: headers when not present."),
    _p("local_header_rewrite_clients", "permit_inet_interfaces", "list",
       doc="Rewrite message header addresses in mail from these clients and update incomplete addresses with the "
           "domain name in $myorigin or $mydomain."),
    _p("remote_header_rewrite_domain", "", "str",
       "Rewrite or add message headers in mail from remote clients if the remote_header_rewrite_domain parameter "
       "value is non-empty, updating incomplete addresses with the domain specified here."),
    _p("inet_protocols", "all", "list", doc='The Internet protocols to use: "ipv4", "ipv6" or "all".'),
    _p("relayhost", "", doc="The next-hop destination(s) for non-local mail."),
    _p("message_size_limit", "10240000", "size",
       doc="The maximal size in bytes of a message, including envelope information."),
    _p("header_size_limit", "102400", "size",
       doc="The maximal amount of memory in bytes for storing a message header."),
    _p("line_length_limit", "2048", "int",
       doc="Upon input, long lines are chopped up into pieces of at most this length."),
    _p("smtpd_recipient_limit", "1000", "int",
       doc="The maximal number of recipients that the SMTP server accepts per message delivery request."),
    _p("smtpd_recipient_overshoot_limit", "1000", "int",
       doc="The number of recipients that a remote SMTP client can send in excess of the limit specified with "
           "$smtpd_recipient_limit, before the Postfix SMTP server increments the per-session error count."),
    _p("smtpd_timeout", "300s", "time", doc="How long the SMTP server waits for a client read or write to complete."),
    _p("smtpd_banner", "$myhostname ESMTP $mail_name",
       doc="The text that follows the 220 status code in the SMTP greeting banner."),
    _p("smtpd_error_sleep_time", "1s", "time",
       doc="The SMTP server response delay after a client has made more than $smtpd_soft_error_limit errors."),
    _p("smtpd_soft_error_limit", "10", "int",
       doc="The number of errors a client may make without delivering mail before responses slow down."),
    _p("smtpd_hard_error_limit", "20", "int",
       doc="The maximal number of errors a client may make without delivering mail before it is disconnected."),
    _p("smtpd_junk_command_limit", "100", "int",
       doc="The number of junk commands (NOOP, VRFY, ETRN or RSET) that a remote SMTP client can send before the "
           "Postfix SMTP server starts to increment the error counter with each junk command."),
    _p("smtpd_helo_required", "no", "bool",
       doc="Require that a remote SMTP client introduces itself with the HELO or EHLO command before sending the "
           "MAIL command or other commands that require EHLO negotiation."),
    _p("smtpd_authorized_xforward_hosts", "", "list", doc="What remote SMTP clients are allowed to use XFORWARD."),
    _p("smtpd_authorized_xclient_hosts", "", "list",
       doc="What remote SMTP clients are allowed to specify override values for the client and server attributes "
           "(XCLIENT)."),
    _p("smtpd_forbidden_commands", "CONNECT GET POST regexp:{{/^[^A-Z]/ Bogus}}",
       doc="List of commands that cause the Postfix SMTP server to immediately terminate the session with a 221 "
           "code."),
    _p("disable_vrfy_command", "no", "bool",
       doc="Disable the SMTP VRFY command. This stops some techniques used to harvest email addresses."),
    _p("compatibility_level", "3.6", "str",
       "A safety net that keeps Postfix's backwards-compatible default settings below the level named: "
       "relay_domains ($mydestination below 2), smtpd_relay_restrictions (empty below 1), "
       "smtpd_relay_before_recipient_restrictions (no below 3.6) and smtputf8_enable (no below 1). filterd's default "
       "is 3.6, as Debian's main.cf sets it (Postfix's own is 0)."),
    _p("smtputf8_enable", "${{$compatibility_level} <level {1} ? {no} : {yes}}", "bool",
       "Enable preliminary SMTPUTF8 support for the protocols described in RFC 6531, RFC 6532, and RFC 6533 "
       "(no: SMTPUTF8 is not offered, taken or checked for)."),
    _p("smtpd_discard_ehlo_keywords", "", "list",
       doc="A case insensitive list of EHLO keywords (pipelining, starttls, auth, etc.) that the Postfix SMTP server "
           "will not send in the EHLO response to a remote SMTP client."),
    _p("smtpd_discard_ehlo_keyword_address_maps", "", "list",
       doc="Lookup tables, indexed by the remote SMTP client address, with case insensitive lists of EHLO keywords "
           "(pipelining, starttls, auth, etc.) that the SMTP server will not send in the EHLO response to a remote "
           "SMTP client."),
    _p("fast_flush_domains", "$relay_domains", "list",
       doc="Optional list of destinations that are eligible for per-destination logfiles with mail that is queued "
           "to those destinations."),
    _p("smtpd_upstream_proxy_protocol", "",
       doc='The name of the proxy protocol used by an optional before-smtpd proxy agent ("haproxy": version 1 or '
           '2 of its PROXY protocol).'),
    _p("smtpd_upstream_proxy_timeout", "5s", "time",
       doc="The time limit for the proxy protocol specified with smtpd_upstream_proxy_protocol."),
    _p("smtpd_reject_footer", "",
       doc="Optional information that is appended after each Postfix SMTP server 4XX or 5XX response ($client_address, "
           "$server_name and the like expanded as the reply is sent)."),
    _p("smtpd_reject_footer_maps", "", "list",
       doc="Optional lookup tables, searched with the whole reply, for the smtpd_reject_footer text."),
    _p("smtpd_client_port_logging", "no", "bool",
       doc="Enable logging of the remote SMTP client port in addition to the hostname and IP address."),
    _p("smtpd_delay_open_until_valid_rcpt", "yes", "bool",
       doc="Postpone the start of an SMTP mail transaction until a valid RCPT TO command is received (no: the queue "
           "id and its client= line at MAIL)."),
    _p("smtpd_forbid_unauth_pipelining", "no", "bool",
       doc="Disconnect remote SMTP clients that violate RFC 2920 (or 5321) command pipelining constraints "
           "(554 5.5.0 Error: SMTP protocol synchronization)."),
    _p("smtpd_noop_commands", "", "list",
       doc="List of commands that the Postfix SMTP server replies to with \"250 Ok\", without doing any syntax "
           "checks and without changing state."),
    _p("smtpd_command_filter", "", "list",
       doc="A mechanism to transform commands from remote SMTP clients: tables searched with the command line, "
           "whose result replaces it."),
    _p("strict_rfc821_envelopes", "no", "bool",
       doc="Require that addresses received in SMTP MAIL FROM and RCPT TO commands are enclosed with <>, and that "
           "those addresses do not contain RFC 822 style comments or phrases."),
    _p("smtpd_peername_lookup", "yes", "bool",
       doc="Attempt to look up the remote SMTP client hostname, and verify that the name matches the client IP "
           "address."),
    _p("smtpd_forbid_bare_newline", "normalize",
       doc="Reject or restrict input lines that end in <LF> instead of <CR><LF>: normalize, yes, reject or no."),
    _p("smtpd_forbid_bare_newline_exclusions", "$mynetworks", "list",
       doc="Exclude the specified clients from smtpd_forbid_bare_newline enforcement."),
    _p("smtpd_forbid_bare_newline_reject_code", "550", "int",
       doc='The SMTP response code when rejecting with "smtpd_forbid_bare_newline = reject" (5XX).'),
    _p("smtpd_client_connection_count_limit", "50", "int",
       doc="How many simultaneous connections any client is allowed to make to this service (0: no limit)."),
    _p("smtpd_client_message_rate_limit", "0", "int",
       doc="The maximal number of message delivery requests that any client is allowed to make to this service per "
           "time unit (MAIL commands; 0: no limit)."),
    _p("smtpd_client_recipient_rate_limit", "0", "int",
       doc="The maximal number of recipient addresses that any client is allowed to send to this service per time "
           "unit (RCPT commands; 0: no limit)."),
    _p("smtpd_client_connection_rate_limit", "0", "int",
       doc="The maximal number of connection attempts any client is allowed to make to this service per time "
           "unit (anvil_rate_time_unit; 0: no limit)."),
    _p("smtpd_client_event_limit_exceptions", "$mynetworks", "list",
       doc="Clients that are excluded from connection count and connection rate restrictions."),
    _p("anvil_rate_time_unit", "60s", "time",
       doc="The time unit over which client connection rates and other rates are calculated."),
    _p("anvil_status_update_time", "600s", "time",
       doc="How frequently the anvil connection and rate limiting server logs peak usage information."),
    _p("queue_directory", "/var/spool/filterd", doc="The location of the top-level queue directory."),
    _p("mail_name", "filterd", doc="The mail system name shown in Received: headers and the SMTP banner."),
    _p("syslog_name", "filterd", doc="A prefix that is prepended to the process name in syslog records."),
    _p("syslog_facility", "mail", doc="The syslog facility of logging."),
    _p("maillog_file", "", doc="The name of an optional logfile; empty selects syslog."),
    _p("smtpd_proxy_ehlo", "$myhostname", doc="How the SMTP server announces itself to the proxy filter."),
    _p("config_directory", "/etc/filterd",
       doc="The directory of main.cf: filterd -c DIR (or FILTERD_CONFIG) sets it to DIR, "
           "as Postfix's -c and MAIL_CONFIG do."),
    _p("filterd_plugins", "", "list", doc="The content-filter plugins to run on each message, in order."),
    _p("filterd_plugin_directory", "$config_directory/plugins",
       doc="Where a filterd_plugins name is looked up when no installed plugin (filterd entry point) has it: "
           "NAME.py or a NAME/ package, imported without PYTHONPATH."),
    _p("plugin_timeout", "30s", "time", doc="How long one plugin may take to process a message."),
    _p("plugin_error_action", "tempfail",
       doc="What to do with a message when a plugin fails or times out: accept, reject, tempfail or quarantine."),
    _p("filterd_listeners", "proxy:127.0.0.1:10025 sink:127.0.0.1:10026", "list",
       doc="The listeners, each MODE:HOST:PORT with MODE relay (filter, queue and deliver), proxy (filter and "
           "relay in-session, before-queue), sink (filter and store), reinject (a relay for mail back from an "
           "after-queue filter: no plugin runs, no content_filter), or milter:inet:HOST:PORT / "
           "milter:unix:/PATH (filter for an MTA's smtpd_milters), or policy:HOST:PORT / policy:unix:/PATH (a policy "
           "server for Postfix's check_policy_service), or pipe:HOST:PORT / pipe:unix:/PATH (the service that `filterd "
           "pipe` hands messages to, filterd_pipe_service)."),
    _p("filterd_proxy_nexthop", "127.0.0.1:10026", doc="HOST:PORT of the SMTP server that proxy listeners relay to."),
    _p("filterd_proxy_timeout", "100s", "time", doc="How long a proxy listener waits for the next-hop SMTP server."),
    _p("filterd_sink_directory", "$queue_directory/sink", doc="Where sink listeners store accepted messages."),
    _p("filterd_worker_processes", "2", "int", doc="The number of worker processes that receive and filter mail."),
    _p("filterd_sessions_per_worker", "1000", "int",
       doc="How many SMTP sessions one worker process serves at once (0: no limit); a client beyond them is "
           'told "421 4.3.2 All server ports are busy", as Postfix\'s postscreen says when every smtpd is busy.'),
    _p("filterd_milter_progress_time", "10s", "time",
       doc="How often a milter listener tells the MTA it is still working on a message (SMFIR_PROGRESS)."),
    _p("mail_owner", "filterd",
       doc="The UNIX system account that owns the queue and that every process but the master runs as, once "
           "the master (started as root) has bound the listening sockets."),
    _p("debug_peer_list", "", "list",
       doc="Clients (host names, domains, network/mask patterns) whose sessions are logged verbosely, at "
           "debug_peer_level."),
    _p("debug_peer_level", "2", "int",
       doc="The verbose logging level for a client that matches debug_peer_list."),
    _p("soft_bounce", "no", "bool",
       doc="Safety net to keep mail queued that would otherwise be returned to the sender: every 5XX reply "
           "becomes 4XX and every bounce a deferral."),
    _p("filterd_shutdown_timeout", "60s", "time",
       doc="On stop or reload, how long a worker that stopped accepting waits for its sessions to finish, and "
           "the queue manager for its deliveries, before they are cut."),
    _p("filterd_score_add_header", "6", doc="The score at which a message gets the X-Spam: Yes header (Rspamd's "
       "add header action); empty: never."),
    _p("filterd_score_hold", "", doc="The score at which a message is put on hold; empty: never."),
    _p("filterd_score_reject", "15", doc="The score at which a message is rejected before the queue (550 5.7.1) and "
       "held after it; empty: never."),
    _p("filterd_score_header", "X-Filterd-Score",
       doc="The header that shows the score's action, the score and every symbol with the plugin that added it."),
    _p("filterd_observe_plugins", "", "list",
       doc="Plugins whose final verdicts (REJECT, DEFER, DISCARD) are logged as reject_warning and counted, not "
           "enforced, and whose symbols do not count in the score, as Postfix's warn_if_reject."),
    _p("filterd_spool_memory_limit", "65536", "size",
       doc="Messages up to this size stay in memory while received; larger ones spill to a file."),
])
CORE_PARAMETERS.update(QUEUE_PARAMETERS)
CORE_PARAMETERS.update(DNS_PARAMETERS)
CORE_PARAMETERS.update(FILTER_PARAMETERS)
CORE_PARAMETERS.update(PIPE_SERVICE_PARAMETERS)
CORE_PARAMETERS.update(RESTRICTION_PARAMETERS)
CORE_PARAMETERS.update(POLICY_PARAMETERS)
CORE_PARAMETERS.update(SASL_PARAMETERS)
CORE_PARAMETERS.update(TLS_PARAMETERS)
CORE_PARAMETERS.update(VIRTUAL_PARAMETERS)
CORE_PARAMETERS.update(CANONICAL_PARAMETERS)


def _split_hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not re.fullmatch(r"[0-9]+", port) or not 0 < int(port) < 65536:
        raise ValueError("expected HOST:PORT with PORT 1-65535")
    if host.startswith("["):
        if not host.endswith("]") or len(host) < 3:
            raise ValueError("unbalanced [] around IPv6 address")
        return host[1:-1], int(port)
    if ":" in host:
        raise ValueError("enclose an IPv6 address in []")
    return host, int(port)


def parse_hostport(text: str) -> tuple[str, int]:
    """Split HOST:PORT or [IPV6]:PORT; raise ValueError when malformed."""
    try:
        return _split_hostport(text)
    except ValueError as exc:
        raise ValueError(f'"{text}": {exc}') from None


def parse_milter_socket(text: str) -> tuple[str, int]:
    """Postfix's milter socket syntax: inet:HOST:PORT, or unix:/PATH (local:/PATH), given as (path, 0)."""
    kind, sep, rest = text.partition(":")
    if kind == "inet" and sep:
        return _split_hostport(rest)
    if kind in ("unix", "local") and rest.startswith("/"):
        return rest, 0
    raise ValueError("expected milter:inet:HOST:PORT or milter:unix:/PATH")


def parse_listener(item: str) -> tuple[str, str, int]:
    """Split a filterd_listeners item MODE:HOST:PORT into (mode, host, port); a unix socket is (mode, path, 0)."""
    mode, sep, rest = item.partition(":")
    try:
        if not sep or mode not in LISTENER_MODES:
            raise ValueError(f"expected MODE:HOST:PORT with MODE one of {', '.join(LISTENER_MODES)}")
        if mode == "milter":
            host, port = parse_milter_socket(rest)
        elif mode in ("policy", "pipe") and rest.startswith(("unix:", "local:")):
            host, port = parse_milter_socket(rest)
        else:
            host, port = _split_hostport(rest)
    except ValueError as exc:
        raise ValueError(f'"{item}": {exc}') from None
    return mode, host, port


def _check_choice(config: Config, name: str, choices: tuple[str, ...]) -> None:
    value = config.get(name)
    if value not in choices:
        raise config.error(name, f'bad value "{value}": expected one of {", ".join(choices)}')


def _check_choices(config: Config, name: str, choices: tuple[str, ...]) -> None:
    for value in config.list(name):
        if value not in choices:
            raise config.error(name, f'bad value "{value}": expected one of {", ".join(choices)}')


SCORE_THRESHOLDS = ("filterd_score_add_header", "filterd_score_hold", "filterd_score_reject")


def _check_threshold(config: Config, name: str) -> None:
    value = config.get(name)
    try:
        float(value) if value.strip() else None
    except ValueError:
        raise config.error(name, f'bad value "{value}": expected a number, or nothing for never') from None


def _check_observed(config: Config) -> None:
    """An observed plugin that filterd_plugins does not list is a misspelling that would observe nothing."""
    listed = config.list("filterd_plugins")
    for name in config.list("filterd_observe_plugins"):
        if name not in listed:
            raise config.error("filterd_observe_plugins", f'"{name}" is not in filterd_plugins')


def validate_values(config: Config) -> None:
    """Reject enumerated and structured values the generic kinds cannot check."""
    for name in SCORE_THRESHOLDS:
        _check_threshold(config, name)
    _check_observed(config)
    check_policy_values(config)
    validate_sasl(config)
    validate_tls(config)
    _check_choice(config, "plugin_error_action", ERROR_ACTIONS)
    _check_choice(config, "smtpd_forbid_bare_newline", BARE_NEWLINE_MODES)
    if config.get("smtpd_upstream_proxy_protocol") not in UPSTREAM_PROXY_PROTOCOLS:
        raise config.error("smtpd_upstream_proxy_protocol", f'unsupported value "{config.get("smtpd_upstream_proxy_protocol")}"'
                           ': expected haproxy or nothing')
    _check_choice(config, "smtp_address_preference", ADDRESS_PREFERENCES)
    _check_choices(config, "inet_protocols", INET_PROTOCOL_NAMES)
    _check_choices(config, "smtp_host_lookup", HOST_LOOKUPS)
    _check_choices(config, "receive_override_options", RECEIVE_OVERRIDES)
    for name in ("canonical_classes", "sender_canonical_classes", "recipient_canonical_classes",
                 "masquerade_classes"):
        _check_choices(config, name, CANONICAL_CLASSES)
    _check_choice(config, "smtp_dns_support_level", DNS_SUPPORT_LEVELS)
    for item in config.list("filterd_dns_servers"):
        try:
            parse_dns_server(item)
        except ValueError as exc:
            raise config.error("filterd_dns_servers", f"bad nameserver {exc}") from None
    code = config.int("smtpd_forbid_bare_newline_reject_code")
    if not 500 <= code <= 599:
        raise config.error("smtpd_forbid_bare_newline_reject_code", f"bad value {code}: expected a 5XX code")
    for item in config.list("filterd_listeners"):
        try:
            parse_listener(item)
        except ValueError as exc:
            raise config.error("filterd_listeners", f"bad listener {exc}") from None
    try:
        parse_hostport(config.get("filterd_proxy_nexthop"))
    except ValueError as exc:
        raise config.error("filterd_proxy_nexthop", f"bad next hop {exc}") from None
