"""The resolver's parameters: filterd's own, since Postfix leaves nameservers and timeouts to /etc/resolv.conf."""

from __future__ import annotations

from filterd.config import Parameter

DNS_PARAMETERS: dict[str, Parameter] = {
    "filterd_dns_servers": Parameter(
        "filterd_dns_servers", "", "list",
        "The nameservers filterd asks, HOST, HOST:PORT or [IPV6]:PORT; empty: those of /etc/resolv.conf."),
    "filterd_dns_timeout": Parameter(
        "filterd_dns_timeout", "10s", "time",
        "How long one DNS lookup may take over every nameserver and retry before it fails temporarily."),
}


def parse_dns_server(text: str) -> tuple[str, int]:
    """HOST, HOST:PORT, [IPV6] or [IPV6]:PORT as (host, port), port 53 by default; ValueError when malformed."""
    host, port = text, "53"
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not host or (rest and not rest.startswith(":")):
            raise ValueError(f'"{text}": expected [IPV6]:PORT')
        port = rest[1:] or port
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f'"{text}": expected HOST or HOST:PORT with PORT 1-65535')
    return host, int(port)
