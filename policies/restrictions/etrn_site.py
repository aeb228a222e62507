"""Restrictions on the destination an ETRN command asks for: access(5) tables (check_etrn_access)."""

from __future__ import annotations

from filterd import Verdict

from .access import check_access, table
from .domains import access_keys
from .evaluation import Check
from .names import restriction


@restriction("check_etrn_access", argument=table)
async def check_etrn_access(check: Check, access_table) -> Verdict | None:
    """Look the ETRN domain and its parent domains up in an access(5) table: `<DOMAIN>: Etrn command rejected:
    ...`; outside ETRN, nothing."""
    if check.site is None:
        return None
    keys = access_keys(check.site, check.settings.parent_style("smtpd_access_maps"))
    return await check_access(check, access_table, keys, check.site, "Etrn command")
