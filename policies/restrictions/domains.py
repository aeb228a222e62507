"""Domains as Postfix matches them in lists and tables: parent domains, subdomain patterns."""

from __future__ import annotations

import ipaddress

from filterd import PartialKey, valid_hostname


def domain_keys(domain: str, parent_style: bool) -> list[str]:
    """An access table's keys for a domain, as check_domain_access tries them: the domain, then each parent
    domain (`example.com`, or `.example.com` without parent_domain_matches_subdomains' smtpd_access_maps), those
    asked of fixed-string tables only (PartialKey)."""
    labels = domain.lower().rstrip(".").split(".")
    parents = [".".join(labels[i:]) for i in range(1, len(labels))]
    return [".".join(labels), *(PartialKey(parent if parent_style else "." + parent) for parent in parents)]


def access_keys(domain: str, parent_style: bool) -> list[str]:
    """domain_keys as check_domain_access() tries them in an access table: no parent domains for a name that is an
    address (`192.0.2.1`: "Don't apply subdomain magic to numerical hostnames")."""
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        return domain_keys(domain, parent_style)
    return [domain.lower()]


def address_keys(address: str) -> list[str]:
    """An access table's keys for a client address, as check_addr_access tries them: the address, then its
    shorter prefixes (`192.0.2`, `192.0`, `192`; an IPv6 address by its `:` groups), asked of fixed-string tables
    only (PartialKey)."""
    separator = ":" if ":" in address else "."
    keys = [address.lower()]
    rest = address.lower()
    while separator in rest:
        rest = rest.rsplit(separator, 1)[0].rstrip(separator)
        if rest:
            keys.append(PartialKey(rest))
    return keys


def fully_qualified(address: str) -> bool:
    """Whether an address is fully qualified as reject_non_fqdn_sender and _recipient see it: the null address, a
    source route, an address literal, or a valid host name with a dot (one trailing dot ignored)."""
    if not address or address.startswith("@"):
        return True
    domain = address.rpartition("@")[2] if "@" in address else ""
    if domain.startswith("[") and domain.endswith("]"):
        return True
    domain = domain[:-1] if domain.endswith(".") and not domain.endswith("..") else domain
    return valid_hostname(domain) and "." in domain


def ascii_domain(domain: str) -> str:
    """A domain as DNS is asked about it: IDNA-encoded when it is not ASCII (left as it is when it cannot be)."""
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def is_address(name: str) -> bool:
    """An IPv4 or IPv6 address written bare (no brackets)."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
