"""Restrictions on the recipient: relay control (reject_unauth_destination and its kin) and its form."""

from __future__ import annotations

from filterd import Verdict, unquote_local

from .access import check_access, mail_keys, resolved, table
from .dnsbl import Zone, reject_rhsbl, unknown_domain, zone_and_filter
from .domains import fully_qualified
from .evaluation import Check
from .names import restriction
from .replies import refusal


def authorized(check: Check) -> bool:
    """permit_auth_destination's test: the recipient resolves to a final destination (a local, virtual alias or
    virtual mailbox domain) or one of $relay_domains, and not through sender-specified routing (unless allow_untrusted_routing)."""
    settings = check.settings
    rules = settings.rules
    resolution = rules.resolve(rules.rewrite(unquote_local(check.recipient)))
    if resolution.routed and not settings.allow_untrusted_routing:
        return False
    if resolution.address_class == "local":
        return True
    return not resolution.error and (settings.transports.is_final(resolution.domain)
                                     or settings.relay_domains.matches(resolution.domain))


def recipient_address(check: Check) -> str:
    """The recipient at hand, unquoted, as the access tables look it up."""
    return unquote_local(check.recipient or "")


def _relay_denied(check: Check, code: int) -> Verdict:
    return refusal(code, "5.7.1", f"<{unquote_local(check.recipient)}>: Relay access denied")


@restriction("permit_auth_destination")
def permit_auth_destination(check: Check) -> Verdict | None:
    """Permit mail for a local domain or one of $relay_domains."""
    return Verdict.ok() if check.recipient is not None and authorized(check) else None


@restriction("reject_unauth_destination")
def reject_unauth_destination(check: Check) -> Verdict | None:
    """Reject mail for any other destination: `554 5.7.1 <R>: Relay access denied`."""
    if check.recipient is None or authorized(check):
        return None
    return _relay_denied(check, check.settings.codes["relay_domains_reject_code"])


@restriction("defer_unauth_destination")
def defer_unauth_destination(check: Check) -> Verdict | None:
    """As reject_unauth_destination, with a temporary `454 4.7.1`: Postfix's default relay restriction."""
    if check.recipient is None or authorized(check):
        return None
    return _relay_denied(check, 454)


@restriction("check_recipient_access", argument=table)
async def check_recipient_access(check: Check, access_table) -> Verdict | None:
    """Look the recipient (user@domain, domain, parent domains, user@) up in an access(5) table."""
    if check.recipient is None:
        return None
    address = recipient_address(check)
    return await check_access(check, access_table, mail_keys(check, resolved(check, address)), address, "Recipient address")


@restriction("reject_non_fqdn_recipient")
def reject_non_fqdn_recipient(check: Check) -> Verdict | None:
    """Reject a recipient whose domain is not a fully-qualified domain name: `504 5.5.2 <R>: Recipient address
    rejected: need fully-qualified address`."""
    if check.recipient is None or fully_qualified(check.recipient):
        return None
    return refusal(check.settings.codes["non_fqdn_reject_code"], "5.5.2",
                   f"<{unquote_local(check.recipient)}>: Recipient address rejected: need fully-qualified address")


@restriction("reject_unknown_recipient_domain")
async def reject_unknown_recipient_domain(check: Check) -> Verdict | None:
    """Reject a recipient whose domain has no MX, A or AAAA record (`450 4.1.2 <R>: Recipient address rejected:
    Domain not found`) or a null MX (`556 5.1.10`); a temporary DNS failure defers only if nothing rejects."""
    if check.recipient is None:
        return None
    return await unknown_domain(check, recipient_address(check), "Recipient address", "4.1.2", ("556", "5.1.10"))


@restriction("reject_multi_recipient_bounce")
def reject_multi_recipient_bounce(check: Check) -> Verdict | None:
    """Reject mail from the null sender to more than one recipient (at RCPT, a second one): `550 5.5.3 <NAME>:
    CLASS rejected: Multi-recipient bounce`."""
    if check.sender != "" or len(check.envelope.recipients) <= (check.protocol_state != "RCPT"):
        return None
    name, kind = check.about
    return refusal(check.settings.codes["multi_recipient_bounce_reject_code"], "5.5.3",
                   f"<{name}>: {kind} rejected: Multi-recipient bounce")


@restriction("reject_rhsbl_recipient", argument=zone_and_filter)
async def reject_rhsbl_recipient(check: Check, zone: Zone) -> Verdict | None:
    """Reject a recipient whose domain a domain blocklist lists: `554 5.7.1 Service unavailable; Recipient address
    [RECIPIENT] blocked using ZONE; REASON`."""
    if check.recipient is None:
        return None
    return await reject_rhsbl(check, zone, recipient_address(check), "Recipient address")
