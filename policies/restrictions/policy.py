"""check_policy_service: the decision delegated to a policy server (SMTPD_POLICY_README), whose action is read as
an access(5) table's result about what the list is about, as smtpd_check.c's check_policy_service does."""

from __future__ import annotations

from filterd import policy_client

from .access import table_verdict
from .evaluation import Check
from .names import restriction


@restriction("check_policy_service", argument=policy_client.read_service)
async def check_policy_service(check: Check, service: tuple[str, dict[str, str]]):
    """Ask the policy server (at ETRN, with the domain asked for as etrn_domain); its action (or the service's
    default action when it cannot be asked) decides."""
    client = check.settings.policy.client(*service)
    request = policy_client.request_attributes(check.session, check.envelope, check.protocol_state,
                                               check.recipient or "")
    request["etrn_domain"] = check.site or ""
    return await table_verdict(check, await client.ask(request), *check.about)
