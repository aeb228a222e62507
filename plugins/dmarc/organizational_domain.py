"""The organizational domain (RFC 7489 section 3.2): the public suffix of a domain and one label more, the public
suffixes read from the list Debian's publicsuffix package ships (never fetched at run time)."""

from __future__ import annotations

from pathlib import Path


class PublicSuffixList:
    """The list's rules: plain ("co.uk"), wildcard ("*.ck") and exception ("!www.ck"), in ASCII (IDNA) form."""

    def __init__(self, rules: set[str]):
        self.rules = rules

    @classmethod
    def read(cls, path: Path) -> PublicSuffixList:
        rules = set()
        for line in path.read_text(encoding="utf-8").splitlines():
            rule = line.strip().split(" ")[0].lower()
            if rule and not rule.startswith("//"):
                rules.add(_ascii(rule))
        return cls(rules)

    def suffix_length(self, labels: list[str]) -> int:
        """How many of the labels, from the right, are the public suffix: the longest rule that matches, an
        exception first; one (the implicit rule "*") when none does."""
        for start in range(len(labels)):
            candidate = ".".join(labels[start:])
            if "!" + candidate in self.rules:
                return len(labels) - start - 1
            wildcard = "*." + ".".join(labels[start + 1:]) if start + 1 < len(labels) else ""
            if candidate in self.rules or wildcard in self.rules:
                return len(labels) - start
        return 1

    def organizational_domain(self, domain: str) -> str:
        """The public suffix and one label more; a domain that is a public suffix is its own."""
        labels = domain.lower().rstrip(".").split(".")
        keep = self.suffix_length(labels) + 1
        return ".".join(labels[-keep:]) if keep <= len(labels) else ".".join(labels)


def _ascii(rule: str) -> str:
    """A rule in the form DNS names take in mail (xn--...), its prefix kept."""
    prefix = rule[:2] if rule.startswith("*.") else rule[:1] if rule.startswith("!") else ""
    try:
        return prefix + rule[len(prefix):].encode("idna").decode("ascii")
    except UnicodeError:
        return rule
