"""XFORWARD to the next hop (Postfix's smtp_send_xforward_command): the original client of a queued message, so
that an after-queue filter, or the MTA that a filter reinjects into, logs and checks the real client."""

from __future__ import annotations

from dataclasses import dataclass

from filterd.queue.queuefile import QueueEnvelope
from filterd.xtext import xtext

_LINE_LIMIT = 512
UNAVAILABLE = "[UNAVAILABLE]"


@dataclass(frozen=True)
class XForward:
    """When XFORWARD is sent: always with smtp_send_xforward_command = yes, and to every filterd_filters transport
    (FILTER_README's `scan` transport sets smtp_send_xforward_command=yes for itself)."""

    always: bool = False
    filter_transports: frozenset[str] = frozenset()

    def wanted(self, transport: str) -> bool:
        return self.always or transport in self.filter_transports


def attributes(env: QueueEnvelope) -> dict[str, str]:
    """NAME, ADDR, PROTO, HELO, IDENT and SOURCE of a queued message; locally submitted mail has no client."""
    name, _, address = env.client.partition("[")
    address = address.rstrip("]")
    if not address:
        return {"NAME": UNAVAILABLE, "ADDR": UNAVAILABLE, "PROTO": env.protocol or UNAVAILABLE,
                "HELO": UNAVAILABLE, "IDENT": env.queue_id, "SOURCE": "LOCAL"}
    return {"NAME": name if name and name != "unknown" else UNAVAILABLE, "ADDR": address,
            "PROTO": env.protocol or UNAVAILABLE, "HELO": env.helo or UNAVAILABLE, "IDENT": env.queue_id,
            "SOURCE": "REMOTE"}


def commands(env: QueueEnvelope, offered: set[str]) -> list[str]:
    """The XFORWARD commands for the attributes the server offered, split as Postfix's smtp(8) splits them to keep
    each line within 512 bytes."""
    lines, current = [], "XFORWARD"
    for key, value in attributes(env).items():
        if key not in offered:
            continue
        item = f" {key}={xtext(value)}"
        if current != "XFORWARD" and len(current) + len(item) > _LINE_LIMIT - 2:
            lines.append(current)
            current = "XFORWARD"
        current += item
    return lines + ([current] if current != "XFORWARD" else [])
