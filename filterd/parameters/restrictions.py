"""The SMTP server's access restrictions and their parameters (filterd.policies.restrictions reads them), with
Postfix 3.7's defaults: relay only from mynetworks or for local destinations, never an open relay."""

from __future__ import annotations

from filterd.config import entry as _p
from filterd.config import Parameter


RESTRICTION_LISTS = ("smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
                     "smtpd_relay_restrictions", "smtpd_recipient_restrictions", "smtpd_data_restrictions",
                     "smtpd_end_of_data_restrictions", "smtpd_etrn_restrictions")
"""The restriction lists, in the order smtpd applies them."""

RESTRICTION_PARAMETERS: dict[str, Parameter] = dict([
    _p("smtpd_client_restrictions", "", "list",
       "Optional restrictions that the SMTP server applies in the context of a client connection request."),
    _p("smtpd_helo_restrictions", "", "list",
       "Optional restrictions that the SMTP server applies in the context of a client HELO command."),
    _p("smtpd_sender_restrictions", "", "list",
       "Optional restrictions that the SMTP server applies in the context of a client MAIL FROM command."),
    _p("smtpd_relay_restrictions", "${{$compatibility_level} <level {1} ? {} : {permit_mynetworks, "
       "permit_sasl_authenticated, defer_unauth_destination}}", "list",
       "Access restrictions for mail relay control that the SMTP server applies in the context of the RCPT TO "
       "command, before smtpd_recipient_restrictions."),
    _p("smtpd_recipient_restrictions", "", "list",
       "Optional restrictions that the SMTP server applies in the context of a client RCPT TO command, after "
       "smtpd_relay_restrictions."),
    _p("smtpd_data_restrictions", "", "list",
       "Optional access restrictions that the SMTP server applies in the context of the SMTP DATA command."),
    _p("smtpd_end_of_data_restrictions", "", "list",
       "Optional access restrictions that the SMTP server applies in the context of the SMTP END-OF-DATA command."),
    _p("smtpd_etrn_restrictions", "", "list",
       "Optional restrictions that the SMTP server applies in the context of a client ETRN command."),
    _p("smtpd_relay_before_recipient_restrictions", "${{$compatibility_level} <level {3.6} ? {no} : {yes}}", "bool",
       "Evaluate smtpd_relay_restrictions before smtpd_recipient_restrictions (Postfix's default from "
       "compatibility_level 3.6, as Debian's main.cf sets it; no: the recipient restrictions first)."),
    _p("smtpd_delay_reject", "yes", "bool",
       "Wait until the RCPT TO command before evaluating $smtpd_client_restrictions, $smtpd_helo_restrictions and "
       "$smtpd_sender_restrictions."),
    _p("smtpd_restriction_classes", "", "list", "User-defined aliases for groups of access restrictions."),
    _p("relay_domains", "${{$compatibility_level} <level {2} ? {$mydestination} : {}}", "list",
       "What destination domains (and subdomains thereof) this system will relay mail to."),
    _p("local_recipient_maps", "", "list",
       "Lookup tables with all names or addresses of valid local recipients (empty: every local address is "
       "valid; Postfix's default names its passwd and alias tables, which filterd's Maildir delivery has none of)."),
    _p("relay_recipient_maps", "", "list",
       "Optional lookup tables with all valid addresses in the domains that match $relay_domains."),
    _p("smtpd_reject_unlisted_recipient", "yes", "bool",
       "Reject a RCPT TO or VRFY address in a local or relay domain that its recipient table does not list, even "
       "when no restriction says reject_unlisted_recipient."),
    _p("smtpd_reject_unlisted_sender", "no", "bool",
       "Reject a MAIL FROM address in a local or relay domain that its recipient table does not list, even when no "
       "restriction says reject_unlisted_sender."),
    _p("unknown_local_recipient_reject_code", "550", "int",
       "The reply code when a local recipient is not found in $local_recipient_maps."),
    _p("unknown_relay_recipient_reject_code", "550", "int",
       "The reply code when a relay recipient is not found in $relay_recipient_maps."),
    _p("show_user_unknown_table_name", "yes", "bool",
       "Name the recipient table in the \"User unknown\" reply and the log."),
    _p("parent_domain_matches_subdomains", "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,"
       "qmqpd_authorized_clients,relay_domains,smtpd_access_maps", "list",
       "A list of Postfix features where the pattern \"example.com\" also matches subdomains of example.com, "
       "instead of requiring an explicit \".example.com\" pattern."),
    _p("permit_mx_backup_networks", "", "list",
       "Restrict the use of the permit_mx_backup SMTP access feature to only domains whose primary MX hosts match the "
       "listed networks."),
    _p("relay_domains_reject_code", "554", "int",
       "The numerical SMTP server response code when a client request is rejected by the "
       "reject_unauth_destination recipient restriction."),
    _p("access_map_reject_code", "554", "int",
       "The numerical SMTP server response code for an access(5) map \"reject\" action."),
    _p("access_map_defer_code", "450", "int",
       "The numerical SMTP server response code for an access(5) map \"defer\" action."),
    _p("unknown_address_reject_code", "450", "int",
       "The numerical response code when the SMTP server rejects a sender or recipient address whose domain "
       "has no DNS record."),
    _p("non_fqdn_reject_code", "504", "int",
       "The numerical SMTP server reply code when a client request is rejected by the reject_non_fqdn_helo_hostname, "
       "reject_non_fqdn_sender or reject_non_fqdn_recipient restriction."),
    _p("invalid_hostname_reject_code", "501", "int",
       "The numerical SMTP server response code when the client HELO or EHLO command parameter is rejected by "
       "the reject_invalid_helo_hostname restriction."),
    _p("unknown_client_reject_code", "450", "int",
       "The numerical SMTP server response code when a client without valid address <=> name mapping is rejected "
       "by the reject_unknown_client_hostname restriction; always 450 when the mapping failed for now."),
    _p("unknown_hostname_reject_code", "450", "int",
       "The numerical SMTP server response code when the hostname specified with the HELO or EHLO command is "
       "rejected by the reject_unknown_helo_hostname restriction."),
    _p("multi_recipient_bounce_reject_code", "550", "int",
       "The numerical SMTP server response code when a remote SMTP client request is blocked by the "
       "reject_multi_recipient_bounce restriction."),
    _p("plaintext_reject_code", "450", "int",
       "The numerical Postfix SMTP server response code when a request is rejected by the reject_plaintext_session "
       "restriction."),
    _p("reject_tempfail_action", "defer_if_permit",
       doc="The Postfix SMTP server's action when a reject-type restriction fails due to a temporary error "
           "condition: defer (at once) or defer_if_permit (unless a later restriction rejects)."),
    _p("unknown_helo_hostname_tempfail_action", "$reject_tempfail_action",
       doc="The Postfix SMTP server's action when reject_unknown_helo_hostname fails due to a temporary error "
           "condition."),
    _p("unknown_address_tempfail_action", "$reject_tempfail_action",
       doc="The Postfix SMTP server's action when reject_unknown_sender_domain or reject_unknown_recipient_domain "
           "fail due to a temporary error condition."),
    _p("maps_rbl_reject_code", "554", "int",
       "The numerical SMTP server response code when a client request is blocked by the reject_rbl_client, "
       "reject_rhsbl_client, reject_rhsbl_sender or reject_rhsbl_recipient restriction."),
    _p("reject_code", "554", "int",
       "The numerical SMTP server response code when a remote SMTP client request is rejected by the \"reject\" "
       "restriction."),
    _p("defer_code", "450", "int",
       "The numerical SMTP server response code when a remote SMTP client request is rejected by the \"defer\" "
       "restriction."),
    _p("smtpd_null_access_lookup_key", "<>",
       doc="The lookup key to be used in SMTP access(5) tables instead of the null sender address."),
    _p("smtpd_sender_login_maps", "", "list",
       "Optional lookup table with the SASL login names that own the envelope sender (MAIL FROM) addresses."),
])
