"""cidr: tables (cidr_table(5)): `[!]network[/prefix] result`, `if [!]network[/prefix]` ... `endif`.

Addresses are compared in binary, IPv4 and IPv6, as Postfix's cidr_match(3): a pattern matches a
key of its own address family only, also when negated; a key that is not an address matches
nothing. Addresses are parsed by the C library's inet_pton(), as Postfix does.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from filterd.tables.base import BaseTable
from filterd.tables.logical_lines import logical_lines
from filterd.tables.notices import Notices
from filterd.tables.rule_matching import evaluate
from filterd.tables.rules import EndifRule, IfRule, MatchRule, Pattern
from filterd.tables.template import Template

FIELDS = re.compile(r"(\S*)\s*(.*)", re.S)


class _Bad(Exception):
    """A malformed address pattern; the message is Postfix's."""


def parse_address(text: str) -> tuple[int, int] | None:
    """(family, address as an integer) for an IPv4 or IPv6 address, or None."""
    family = socket.AF_INET6 if ":" in text else socket.AF_INET
    try:
        return family, int.from_bytes(socket.inet_pton(family, text), "big")
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class Network:
    """One address pattern: family, network bits and prefix length."""

    family: int
    network: int
    prefix: int
    bits: int
    negate: bool = False
    groups = 0

    def test(self, key: tuple[int, int]) -> bool:
        """A key of another family matches no rule, negated or not."""
        family, address = key
        shift = self.bits - self.prefix
        return family == self.family and (address >> shift == self.network >> shift) != self.negate


def _unbracket(text: str) -> str:
    """`[addr]/len` or `[addr/len]` without the brackets, or _Bad in Postfix's words."""
    if not text.startswith("["):
        return text
    inside, close, rest = text[1:].partition("]")
    if not close:
        raise _Bad(f'missing \']\' character after "{text}"')
    if rest and not rest.startswith("/"):
        raise _Bad(f'garbage after "{text[:len(inside) + 2]}"')
    return inside + rest


def parse_network(pattern: str, negate: bool = False) -> Network:
    """An address pattern, or _Bad with Postfix's message."""
    if not pattern:
        raise _Bad("no address pattern")
    text = _unbracket(pattern)
    address, slash, length = text.partition("/")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    bits = 128 if family == socket.AF_INET6 else 32
    if slash and not (length.isascii() and length.isdigit()):
        raise _Bad(f'bad mask value in "{text}"')
    prefix = int(length) if slash else bits
    if prefix > bits:
        raise _Bad(f'bad mask length in "{text}"')
    parsed = parse_address(address)
    if parsed is None or parsed[0] != family:
        raise _Bad(f'bad network value in "{text}"' if slash else f'bad address pattern: "{text}"')
    network = parsed[1]
    if network & ((1 << (bits - prefix)) - 1):
        masked = network >> (bits - prefix) << (bits - prefix)
        shown = socket.inet_ntop(family, masked.to_bytes(bits // 8, "big"))
        raise _Bad(f'non-null host address bits in "{text}", perhaps you should use '
                   f'"{shown}/{prefix}" instead')
    return Network(family, network, prefix, bits, negate)


def _negations(text: str) -> tuple[bool, str]:
    negate, i = False, 0
    while i < len(text) and (text[i] == "!" or text[i].isspace()):
        negate ^= text[i] == "!"
        i += 1
    return negate, text[i:]


def _pattern(text: str) -> Pattern:
    negate, rest = _negations(text)
    return Pattern(rest.encode("utf-8", "surrogateescape"), 0, False, parse_network(rest, negate))


def _match_rule(lineno: int, text: str) -> MatchRule:
    negate, rest = _negations(text)
    pattern, value = FIELDS.match(rest).groups()
    network = parse_network(pattern, negate)
    if not value:
        raise _Bad("no lookup result")
    template = Template((value.encode("utf-8", "surrogateescape"),), 0)
    return MatchRule(lineno, Pattern(pattern.encode("utf-8", "surrogateescape"), 0, False, network), template)


def _keyword(text: str, word: str) -> str | None:
    if text[:len(word)].lower() == word and not text[len(word):len(word) + 1].isalnum():
        return text[len(word):].lstrip()
    return None


class CidrTable(BaseTable):
    """The rules of a cidr: table; `notices` holds the warnings Postfix would log."""

    fixed = False

    def __init__(self, spec: str, name: str, data: bytes):
        self.spec = spec
        self.notices = Notices()
        self.rules: list = []
        self._parse(data, f"cidr map {name.replace('%', '%%')}, line %d")

    def _parse(self, data: bytes, where: str) -> None:
        open_ifs: list[IfRule] = []
        for lineno, raw in logical_lines(data, self.spec.partition(":")[2], self.notices):
            try:
                rule = self._rule(lineno, raw.decode("utf-8", "surrogateescape"), open_ifs)
            except _Bad as exc:
                self.notices.add(lineno, f"{where % lineno}: {exc}: skipping this rule", str(exc))
                continue
            if isinstance(rule, IfRule):
                open_ifs.append(rule)
            elif isinstance(rule, EndifRule):
                open_ifs.pop().endif = len(self.rules)
            self.rules.append(rule)
        for rule in reversed(open_ifs):
            self.notices.add(rule.lineno, f"{where % rule.lineno}: IF has no matching ENDIF",
                             "IF has no matching ENDIF")

    def _rule(self, lineno: int, text: str, open_ifs: list) -> MatchRule | IfRule | EndifRule:
        condition = _keyword(text, "if")
        if condition is not None:
            return IfRule(lineno, _pattern(condition))
        rest = _keyword(text, "endif")
        if rest is not None:
            if rest:
                raise _Bad("garbage after ENDIF")
            if not open_ifs:
                raise _Bad("ENDIF without IF")
            return EndifRule(lineno)
        return _match_rule(lineno, text)

    def lookup_bytes(self, key: bytes) -> bytes | None:
        address = parse_address(key.decode("utf-8", "replace"))
        return None if address is None else evaluate(self.rules, address)
