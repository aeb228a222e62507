"""The client's name as Postfix's smtpd finds it (smtpd_peer.c): the name of its address (getnameinfo, so the system's
resolver and /etc/hosts, as Postfix asks), kept as the client name only when it resolves back to that address, and as
the reverse client name either way; each lookup's end in Postfix's {client_resolve} words, which
reject_unknown_client_hostname and reject_unknown_reverse_client_hostname read.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

from filterd import maillog
from filterd.addresses import valid_hostname

OK, FAIL, FORGED, TEMP = "OK", "FAIL", "FORGED", "TEMP"
"""The name was found (and confirmed); none was; it does not resolve back to the address; the DNS failed for now."""
UNKNOWN = "unknown"
TEMPORARY = frozenset({socket.EAI_AGAIN, socket.EAI_MEMORY, socket.EAI_SYSTEM})
"""getaddrinfo's errors that smtpd_peer.c takes as temporary (TEMP_AI_ERROR)."""
LOOKUP_TIMEOUT = 5.0
"""Seconds a lookup may take before it counts as a temporary failure (the C library's own limits come first)."""


@dataclass(frozen=True)
class ClientNames:
    """The client's name (confirmed, else "unknown"), its reverse name (unconfirmed), and how each lookup ended."""

    name: str = UNKNOWN
    reverse_name: str = UNKNOWN
    name_status: str = FAIL
    reverse_name_status: str = FAIL


def lookup_status(error: BaseException) -> str:
    """TEMP for a lookup that failed for now (or took too long), FAIL for one that found nothing."""
    errno = getattr(error, "errno", None)
    return TEMP if isinstance(error, asyncio.TimeoutError) or errno in TEMPORARY else FAIL


def _numeric(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


async def reverse_name(address: str, service: str) -> tuple[str, str]:
    """The address's name and OK, or "unknown" and FAIL or TEMP; a numeric or malformed name is none, a numeric one
    logged as sockaddr_to_hostname logs it."""
    loop = asyncio.get_running_loop()
    try:
        name, _ = await asyncio.wait_for(loop.getnameinfo((address, 0), socket.NI_NAMEREQD), LOOKUP_TIMEOUT)
    except (OSError, asyncio.TimeoutError) as exc:
        return UNKNOWN, lookup_status(exc)
    if _numeric(name):
        maillog.warning(service, "numeric hostname: %s", name)
        return UNKNOWN, FAIL
    if not valid_hostname(name):
        return UNKNOWN, FAIL
    return name, OK


async def forward_status(name: str, address: str, service: str) -> str:
    """OK when the name resolves to the address (in its family), else FORGED, or TEMP when that could not be told;
    a failure is logged as smtpd logs it: `hostname NAME does not resolve to address ADDR[: REASON]`."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        found = await asyncio.wait_for(loop.getaddrinfo(name, None, family=family, type=socket.SOCK_STREAM),
                                       LOOKUP_TIMEOUT)
    except (OSError, asyncio.TimeoutError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "Temporary failure in name resolution"
        maillog.warning(service, "hostname %s does not resolve to address %s: %s", name, address, reason)
        return TEMP if lookup_status(exc) == TEMP else FORGED
    wanted = ipaddress.ip_address(address)
    if any(ipaddress.ip_address(entry[4][0].split("%")[0]) == wanted for entry in found):
        return OK
    maillog.warning(service, "hostname %s does not resolve to address %s", name, address)
    return FORGED


async def look_up(address: str, service: str) -> ClientNames:
    """The client's names, as smtpd looks them up when a client connects."""
    name, status = await reverse_name(address, service)
    if status != OK:
        return ClientNames(UNKNOWN, UNKNOWN, status, status)
    confirmed = await forward_status(name, address, service)
    return ClientNames(name if confirmed == OK else UNKNOWN, name, confirmed, OK)
