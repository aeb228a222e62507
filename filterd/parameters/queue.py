"""Postfix's queue manager, delivery and bounce parameters that relay mode obeys, with Postfix's defaults."""

from __future__ import annotations

from filterd.config import entry as _p
from filterd.config import Parameter

INET_PROTOCOL_NAMES = ("all", "ipv4", "ipv6")
ADDRESS_PREFERENCES = ("any", "ipv4", "ipv6")
HOST_LOOKUPS = ("dns", "native")
DNS_SUPPORT_LEVELS = ("", "disabled", "enabled", "dnssec")


QUEUE_PARAMETERS: dict[str, Parameter] = dict([
    _p("qmgr_message_active_limit", "20000", "int", "The maximal number of messages in the active queue."),
    _p("queue_run_delay", "300s", "time", "The time between deferred queue scans by the queue manager."),
    _p("minimal_backoff_time", "300s", "time", "The minimal time between attempts to deliver a deferred message."),
    _p("maximal_backoff_time", "4000s", "time", "The maximal time between attempts to deliver a deferred message."),
    _p("maximal_queue_lifetime", "5d", "time", "How long a message stays queued before it is sent back as undeliverable."),
    _p("bounce_queue_lifetime", "5d", "time", "How long a bounce message stays queued before it is considered undeliverable."),
    ("delay_warning_time", Parameter("delay_warning_time", "0h", "time",
                                     "The time after which the sender receives a copy of the message headers of mail "
                                     "that is still queued (0: never).", unit="h")),
    _p("default_destination_concurrency_limit", "20", "int", "Parallel deliveries to one destination."),
    _p("initial_destination_concurrency", "5", "int",
       "The initial per-destination concurrency level for parallel delivery to the same destination."),
    _p("default_destination_concurrency_positive_feedback", "1", "str",
       "The per-destination amount of delivery concurrency positive feedback, after a delivery completes without "
       "connection or handshake failure (a number, or number/concurrency)."),
    _p("default_destination_concurrency_negative_feedback", "1", "str",
       "The per-destination amount of delivery concurrency negative feedback, after a delivery completes with a "
       "connection or handshake failure."),
    _p("default_destination_concurrency_failed_cohort_limit", "1", "int",
       "How many pseudo-cohorts must suffer connection or handshake failure before a specific destination is "
       "considered unavailable (and further delivery is suspended for minimal_backoff_time)."),
    _p("default_destination_recipient_limit", "50", "int", "Recipients per message delivery to one destination."),
    _p("in_flow_delay", "1s", "time", "Slow down message arrival when the queue manager falls behind."),
    _p("fallback_relay", "", "list", "Next-hop destinations for mail the primary next hop could not take."),
    _p("transport_maps", "", "list", "Lookup tables mapping recipient domains to transport:nexthop."),
    _p("sender_dependent_relayhost_maps", "", "list",
       "Lookup tables of a relayhost by envelope sender address and @domain (DUNNO: the global relayhost)."),
    _p("empty_address_relayhost_maps_lookup_key", "<>",
       doc="The sender_dependent_relayhost_maps key of the null sender."),
    _p("sender_dependent_default_transport_maps", "", "list",
       "Lookup tables of a default_transport by envelope sender address and @domain (DUNNO: default_transport)."),
    _p("empty_address_default_transport_maps_lookup_key", "<>",
       doc="The sender_dependent_default_transport_maps key of the null sender."),
    _p("local_transport", "local:$myhostname",
       doc="The transport (and next hop) for $mydestination recipients: local (Maildir), error:, retry:, discard:."),
    _p("default_transport", "smtp",
       doc="The transport (and next hop) for recipients neither local nor in $relay_domains."),
    _p("relay_transport", "relay",
       doc="The transport (and next hop) for $relay_domains recipients: relay is smtp logging as filterd/relay."),
    _p("smtp_connect_timeout", "30s", "time", "The SMTP client's timeout for completing a TCP connection."),
    _p("smtp_helo_timeout", "300s", "time", "The SMTP client's timeout for the greeting and the EHLO reply."),
    _p("smtp_sasl_auth_enable", "no", "bool", "Log in to the next hop with SMTP AUTH (smtp_sasl_password_maps)."),
    _p("smtp_sasl_password_maps", "", "list",
       "Tables with username:password per next hop as written (relayhost's [host]:port) or per server name."),
    _p("smtp_sasl_security_options", "noplaintext, noanonymous", "list",
       "Mechanisms the SMTP client may use without TLS: noplaintext keeps PLAIN and LOGIN out."),
    _p("smtp_sasl_tls_security_options", "$smtp_sasl_security_options", "list",
       "Mechanisms the SMTP client may use over TLS."),
    _p("smtp_sasl_auth_soft_bounce", "yes", "bool", "A login the server refuses with 5XX defers the mail, not bounce."),
    _p("smtp_mail_timeout", "300s", "time", "The SMTP client's timeout for the MAIL FROM reply."),
    _p("smtp_rcpt_timeout", "300s", "time", "The SMTP client's timeout for a RCPT TO reply."),
    _p("smtp_data_done_timeout", "600s", "time", "The SMTP client's timeout for the reply to the end of data."),
    _p("smtp_line_length_limit", "998", "int",
       "The longest header or body line the SMTP client sends; longer ones are broken with <CR><LF><SPACE> (0: no limit)."),
    _p("smtp_helo_name", "$myhostname", "str", "The hostname the SMTP client sends in EHLO."),
    _p("smtp_connection_cache_on_demand", "yes", "bool",
       "Keep an SMTP connection open for reuse once deliveries to its destination come back to back."),
    _p("smtp_connection_cache_destinations", "", "list",
       "Next-hop destinations whose SMTP connections are always kept open for reuse."),
    _p("smtp_connection_cache_time_limit", "2s", "time",
       "How long an unused cached SMTP connection stays open before it is closed with QUIT."),
    _p("smtp_connection_reuse_time_limit", "300s", "time",
       "How long after it was opened an SMTP connection may still be reused."),
    _p("smtp_connection_reuse_count_limit", "0", "int",
       "How many times an SMTP connection may be reused before it is closed (0: no limit)."),
    _p("smtp_address_preference", "any", "str",
       'The address type ("ipv6", "ipv4" or "any") tried first among addresses of equal MX preference.'),
    _p("smtp_dns_support_level", "", "str",
       "disabled: no DNS lookups for delivery (next hops resolve by name); "
       "enabled (or empty): MX and address lookups."),
    _p("disable_dns_lookups", "no", "bool", "Disable DNS lookups in the SMTP client (deprecated: "
       "smtp_dns_support_level, when set, wins)."),
    _p("smtp_host_lookup", "dns", "list", 'How the SMTP client looks up a host\'s addresses: "dns", "native" '
       '(getaddrinfo, /etc/hosts) or "dns, native" (native for hosts not found in the DNS).'),
    _p("ignore_mx_lookup_error", "no", "bool",
       "Look up the domain's own address when its MX lookup fails, instead of deferring (violates the SMTP standard)."),
    _p("smtp_mx_address_limit", "5", "int",
       "The most addresses of a next hop (its MX hosts' together) the SMTP client tries, or zero (no limit)."),
    _p("smtp_defer_if_no_mx_address_found", "no", "bool",
       "Defer, instead of returning the mail, when no MX host has an address."),
    _p("bounce_notice_recipient", "postmaster", "str", "Who gets notified of bounced mail (unused: kept for postconf)."),
    _p("filterd_mailbox_base", "$queue_directory/mailboxes",
       "str", "Where mail for $mydestination is delivered: BASE/LOCALPART/Maildir/."),
])
