"""OpenDKIM's KeyTable and SigningTable, read as OpenDKIM reads them: `KEYNAME DOMAIN:SELECTOR:KEYFILE` lines, and
`PATTERN KEYNAME` lines matched exactly (a file, `file:`) or as wildcards (`refile:`, `*` for any text), in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


class TableError(ValueError):
    """A table a user wrote cannot be read: the message names FILE:LINE."""


@dataclass(frozen=True)
class KeyEntry:
    """One KeyTable line: the signing domain, the selector and the private key's file."""

    domain: str
    selector: str
    key_file: str
    where: str
    """FILE:LINE, for the errors about the key file."""


def _lines(path: str):
    """(FILE:LINE, fields) of each line that is neither empty nor a comment."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise TableError(f"{path}: {exc.strerror or exc}") from None
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if fields:
            yield f"{path}:{number}", fields


def read_key_table(path: str) -> dict[str, KeyEntry]:
    """KEYNAME -> its entry."""
    keys = {}
    for where, fields in _lines(path):
        parts = fields[1].split(":", 2) if len(fields) == 2 else []
        if len(parts) != 3 or not all(parts):
            raise TableError(f"{where}: expected KEYNAME DOMAIN:SELECTOR:KEYFILE")
        keys[fields[0]] = KeyEntry(parts[0].lower(), parts[1], parts[2], where)
    return keys


@dataclass(frozen=True)
class SigningTable:
    """Which key signs a sender's mail: the first pattern that matches, as OpenDKIM's SigningTable."""

    rules: tuple[tuple[str, re.Pattern | None, str], ...]
    """(pattern, its compiled wildcard or None for an exact key, KEYNAME), in file order."""

    def key_name(self, sender: str) -> str | None:
        """The KEYNAME for a sender's address: an exact table tries the address, then its domain; a refile: table
        the first pattern matching the address."""
        address = sender.lower()
        domain = address.rpartition("@")[2]
        for pattern, wildcard, name in self.rules:
            if wildcard.fullmatch(address) if wildcard else pattern in (address, domain):
                return name
        return None


def read_signing_table(spec: str, key_names: set[str]) -> SigningTable:
    """`[file:|refile:]PATH`; every KEYNAME must be in the KeyTable."""
    kind, _, path = spec.partition(":") if spec.startswith(("file:", "refile:")) else ("file", "", spec)
    rules = []
    for where, fields in _lines(path):
        if len(fields) != 2:
            raise TableError(f"{where}: expected PATTERN KEYNAME")
        if fields[1] not in key_names:
            raise TableError(f"{where}: key {fields[1]} is not in the KeyTable")
        pattern = fields[0].lower()
        wildcard = re.compile(".*".join(map(re.escape, pattern.split("*")))) if kind == "refile" else None
        rules.append((pattern, wildcard, fields[1]))
    return SigningTable(tuple(rules))
