"""canonical_maps and its sender and recipient kin: the one-to-one rewriting cleanup applies to the envelope; the
automatic blind copies it adds."""

from __future__ import annotations

from filterd.config import entry as _p
from filterd.config import Parameter

CANONICAL_CLASSES = ("envelope_sender", "envelope_recipient", "header_sender", "header_recipient")

CANONICAL_PARAMETERS: dict[str, Parameter] = dict([
    _p("canonical_maps", "", "list",
       "Optional address mapping lookup tables for message headers and envelopes."),
    _p("sender_canonical_maps", "", "list",
       "Optional address mapping lookup tables for envelope and header sender addresses."),
    _p("recipient_canonical_maps", "", "list",
       "Optional address mapping lookup tables for envelope and header recipient addresses."),
    _p("always_bcc", "", "str",
       "Optional address that receives a \"blind carbon copy\" of each message that is received by the Postfix "
       "mail system."),
    _p("sender_bcc_maps", "", "list",
       "Optional BCC (blind carbon-copy) address lookup tables, indexed by envelope sender address."),
    _p("recipient_bcc_maps", "", "list",
       "Optional BCC (blind carbon-copy) address lookup tables, indexed by envelope recipient address."),
    _p("masquerade_domains", "", "list",
       "Optional list of domains whose subdomain structure will be stripped off in email addresses."),
    _p("masquerade_exceptions", "", "list",
       "Optional list of user names that are not subjected to address masquerading, even when their addresses "
       "match $masquerade_domains."),
    _p("masquerade_classes", "envelope_sender, header_sender, header_recipient", "list",
       "What addresses are subject to address masquerading."),
    _p("message_drop_headers", "bcc, content-length, resent-bcc, return-path", "list",
       "Names of message headers that the cleanup daemon will remove after applying header_checks and before "
       "invoking Milter applications (in relay mode, as filterd queues a message)."),
    _p("canonical_classes", "envelope_sender, envelope_recipient, header_sender, header_recipient", "list",
       "What addresses are subject to canonical_maps address mapping."),
    _p("sender_canonical_classes", "envelope_sender, header_sender", "list",
       "What addresses are subject to sender_canonical_maps address mapping."),
    _p("recipient_canonical_classes", "envelope_recipient, header_recipient", "list",
       "What addresses are subject to recipient_canonical_maps address mapping."),
])
