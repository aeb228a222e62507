"""After-queue content filters: Postfix's content_filter, receive_override_options and XFORWARD parameters, and
filterd_filters, the filter transports that a FILTER action or content_filter may name."""

from __future__ import annotations

from filterd.config import entry as _p
from filterd.config import Parameter

RECEIVE_OVERRIDES = ("no_unknown_recipient_checks", "no_address_mappings", "no_header_body_checks", "no_milters")
"""Postfix's receive_override_options values: no_header_body_checks and no_milters together keep every plugin off at
receipt, no_unknown_recipient_checks keeps recipient tables unasked, no_address_mappings virtual_alias_maps unapplied
(but on a reinject listener)."""


FILTER_PARAMETERS: dict[str, Parameter] = dict([
    _p("content_filter", "", "str",
       "After the message is queued, send the entire message to the specified transport:destination (a FILTER "
       "action overrides it)."),
    _p("receive_override_options", "", "list",
       "Enable or disable recipient validation, built-in content filtering, or address mapping: "
       "no_header_body_checks and no_milters keep every plugin off at receipt, no_unknown_recipient_checks leaves "
       "recipient tables unasked, no_address_mappings leaves virtual_alias_maps to the reinjection."),
    _p("smtp_send_xforward_command", "no", "bool",
       "Send the non-standard XFORWARD command when the SMTP server EHLO response announces XFORWARD support."),
    _p("hopcount_limit", "50", "int",
       "The maximal number of Received: message headers that is allowed in the primary message headers: a "
       "message with more is bounced (a filter loop ends there)."),
    _p("sendmail_path", "/usr/sbin/sendmail", "str",
       "A Sendmail-compatible mail posting interface: where `filterd pipe` reinjects a message it accepted."),
    _p("filterd_pipe_reinjection", "sendmail", "str",
       "Where `filterd pipe` sends what it accepted: sendmail (through sendmail_path, as FILTER_README's script) or "
       "smtp:[HOST]:PORT (a reinjection smtpd without content_filter)."),
    _p("filterd_filters", "", "list",
       "The after-queue filter transports besides smtp: a FILTER or content_filter naming one of them is sent by "
       "SMTP with XFORWARD (as FILTER_README's scan transport with smtp_send_xforward_command=yes)."),
])
