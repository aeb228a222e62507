"""Virtual alias domains and virtual_alias_maps: the address class smtpd refuses unlisted addresses of, and the
one-to-many rewriting cleanup applies to every recipient; relocated_maps; recipient_delimiter, which every address
lookup strips."""

from __future__ import annotations

from filterd.config import entry as _p
from filterd.config import Parameter

VIRTUAL_PARAMETERS: dict[str, Parameter] = dict([
    _p("recipient_delimiter", "", "str",
       "The set of characters that can separate an email address localpart, user name, or a .forward file name "
       "from its extension: user+foo@domain is looked up as itself, then as user@domain."),
    _p("owner_request_special", "yes", "bool",
       "Enable special treatment for owner-listname and listname-request address localparts when the "
       "recipient_delimiter is set to \"-\"."),
    _p("propagate_unmatched_extensions", "canonical, virtual", "list",
       "What address lookup tables copy an address extension from the lookup key to the lookup result (filterd "
       "reads virtual)."),
    _p("virtual_maps", "", "list", "Optional lookup tables with aliases (the older name of virtual_alias_maps)."),
    _p("virtual_alias_maps", "$virtual_maps", "list",
       "Optional lookup tables that alias specific mail addresses or domains to other local or remote addresses: "
       "each recipient is rewritten as it is queued (unless receive_override_options has no_address_mappings), "
       "and a recipient it lists is never refused as unknown."),
    _p("virtual_alias_domains", "$virtual_alias_maps", "list",
       "Postfix is the final destination for the specified list of virtual alias domains: an address in one "
       "that virtual_alias_maps does not list is refused (User unknown in virtual alias table)."),
    _p("relocated_maps", "", "list",
       "Optional lookup tables with new contact information for users or domains that no longer exist: such a "
       "recipient is refused at RCPT (550 5.1.6 User has moved to ...) and bounced if queued."),
    _p("virtual_mailbox_maps", "", "list",
       "Optional lookup tables with all valid addresses in the domains that match $virtual_mailbox_domains: the "
       "mailbox of each, relative to virtual_mailbox_base (a Maildir when it ends in /)."),
    _p("virtual_mailbox_domains", "$virtual_mailbox_maps", "list",
       "Postfix is the final destination for the specified list of domains; mail is delivered via the "
       "$virtual_transport mail delivery transport."),
    _p("virtual_transport", "virtual", "str",
       "The default mail delivery transport and next-hop destination for final delivery to domains listed with "
       "$virtual_mailbox_domains."),
    _p("virtual_mailbox_base", "", "str",
       "A prefix that the virtual delivery agent prepends to all pathname results from $virtual_mailbox_maps "
       "table lookups (an absolute path)."),
    _p("unknown_virtual_mailbox_reject_code", "550", "int",
       "The SMTP server response code when a recipient address matches $virtual_mailbox_domains, and "
       "$virtual_mailbox_maps specifies a list of lookup tables that does not match the recipient address."),
    _p("unknown_virtual_alias_reject_code", "550", "int",
       "The reply code when a recipient address matches $virtual_alias_domains, and it does not match "
       "$virtual_alias_maps."),
    _p("virtual_alias_expansion_limit", "1000", "int",
       "The maximal number of addresses that virtual alias expansion produces from each original recipient."),
    _p("virtual_alias_recursion_limit", "1000", "int",
       "The maximal nesting depth of virtual alias expansion."),
    _p("virtual_alias_address_length_limit", "1000", "int",
       "The maximal length of an email address after virtual alias expansion."),
])
