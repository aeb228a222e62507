"""DNS allowlists: permit_dnswl_client (the client's address) and permit_rhswl_client (its confirmed name), with
the same reply filter as the blocklists. At RCPT they never permit a recipient that relay control would refuse; a
lookup that fails defers a later reject (`450 4.7.1 <WHAT>: Client host rejected: Service unavailable`)."""

from __future__ import annotations

from filterd import Verdict

from .dnsbl import OK, RETRY, Zone, listed_domain, listing, reversed_address, zone_and_filter
from .evaluation import Check, defer_a_reject
from .names import restriction
from .recipient import authorized
from .replies import refusal


def unauthorized_recipient(check: Check) -> bool:
    """At RCPT, a recipient that permit_auth_destination would not permit: no allowlist lets it through."""
    return check.protocol_state == "RCPT" and check.recipient is not None and not authorized(check)


async def allowlisted(check: Check, query: str, zone: Zone, what: str) -> Verdict | None:
    """OK when the allowlist lists the query; a failed lookup keeps a deferral for a later reject."""
    status = await listing(check, f"{query}.{zone[0]}", zone[1])
    if status == RETRY:
        defer_a_reject(check, refusal(450, "4.7.1", f"<{what}>: Client host rejected: Service unavailable"))
    return Verdict.ok() if status == OK else None


@restriction("permit_dnswl_client", argument=zone_and_filter)
async def permit_dnswl_client(check: Check, zone: Zone) -> Verdict | None:
    """Permit a client whose address a DNS allowlist lists."""
    prefix = reversed_address(check.session.client_address)
    if prefix is None or unauthorized_recipient(check):
        return None
    return await allowlisted(check, prefix, zone, check.session.client_address)


@restriction("permit_rhswl_client", argument=zone_and_filter)
async def permit_rhswl_client(check: Check, zone: Zone) -> Verdict | None:
    """Permit a client whose (confirmed) name's domain a domain allowlist lists."""
    name = check.session.client_name
    if name.lower() == "unknown" or unauthorized_recipient(check):
        return None
    domain = listed_domain(name)
    return None if domain is None else await allowlisted(check, domain, zone, name)
