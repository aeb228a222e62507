"""Hypothesis strategies for lookup tables and keys that exercise every syntax feature.

Tables are built from a small alphabet so that generated keys often match: patterns with classes,
groups, alternation, quantifiers and anchors; odd delimiters; each flag; negation; nested if/endif;
$n, ${n}, $(n) and $$ in results; continuation lines, comments and blank lines.
"""

from __future__ import annotations

import ipaddress

from hypothesis import strategies as st

ALPHABET = "abcAB1 :"
DELIMITERS = "/|~@%,;:\"'#!=&"
COMMON_ATOMS = ["a", "b", "c", "ab", "A", "1", " ", ":", ".", "[ab]", "[^a]", "[[:digit:]]",
                "[[:upper:]]", "(a|b)", "(ab)", "(c)?", "a*", "b+", "a{1,2}", "(a)(b)"]
PCRE_ATOMS = ["\\d", "\\w+", "(?:ab)", "a*?", "(?=a)", "\\bab", "\\s", "(?i:A)", "(?<n>b)", "a++",
              "(a)\\1", "[[:alpha:]]+"]
REGEXP_ATOMS = ["\\(", "[]a]", "(a|)", "\\."]
FLAGS = {"regexp": "imx", "pcre": "imsxAEU"}
SEPARATORS = [" ", "\t", "  "]


def keys(min_size: int = 4, max_size: int = 10) -> st.SearchStrategy[list[str]]:
    """Keys over the tables' alphabet, including empty-ish and upper-case ones."""
    return st.lists(st.text(ALPHABET, min_size=1, max_size=8), min_size=min_size, max_size=max_size)


def patterns(kind: str) -> st.SearchStrategy[str]:
    atoms = COMMON_ATOMS + (PCRE_ATOMS if kind == "pcre" else REGEXP_ATOMS)
    body = st.lists(st.sampled_from(atoms), min_size=1, max_size=4).map("".join)
    return st.tuples(st.sampled_from(["", "^"]), body, st.sampled_from(["", "$"])).map("".join)


def _delimited(pattern: str, delimiter: str) -> str:
    if delimiter in pattern:
        pattern = pattern.replace(delimiter, "\\" + delimiter)
    return delimiter + pattern + delimiter


@st.composite
def pattern_text(draw, kind: str) -> str:
    """`[!]/pattern/flags` with a random delimiter and flag string."""
    delimiter = draw(st.sampled_from("/" * 6 + DELIMITERS))
    flags = draw(st.text(FLAGS[kind], max_size=2))
    negate = draw(st.sampled_from(["", "", "", "!", "! "]))
    return negate + _delimited(draw(patterns(kind)), delimiter) + flags


@st.composite
def result_text(draw) -> str:
    pieces = st.sampled_from(["R", "text", " ", "$1", "${1}", "$(1)", "$$", "$2", "[", "]"])
    return "r" + draw(st.lists(pieces, max_size=4).map("".join))


@st.composite
def match_line(draw, kind: str) -> str:
    line = f"{draw(pattern_text(kind))} {draw(result_text())}"
    if draw(st.integers(0, 6)) == 0:
        head, _, tail = line.rpartition(" ")
        line = f"{head}\n  {tail}" if head else line
    return line


@st.composite
def block(draw, kind: str, depth: int = 0) -> list[str]:
    """Rules, with nested if/endif blocks, comments and blank lines among them."""
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        choice = draw(st.integers(0, 9))
        if choice < 2 and depth < 2:
            keyword = draw(st.sampled_from(["if", "IF", "if"]))
            lines += [f"{keyword} {draw(pattern_text(kind))}", *draw(block(kind, depth + 1)), "endif"]
        elif choice == 2:
            lines.append(draw(st.sampled_from(["# a comment", "", "   ", "  # indented comment"])))
        else:
            lines.append(draw(match_line(kind)))
    return lines


def pattern_tables(kind: str) -> st.SearchStrategy[str]:
    """A regexp: or pcre: table's text."""
    return block(kind).map(lambda lines: "\n".join(lines) + "\n")


@st.composite
def networks(draw) -> str:
    if draw(st.booleans()):
        address = ipaddress.IPv4Address(draw(st.sampled_from([0x0A000000, 0xC0A80100, 0x7F000000, 0xC0000200])))
        prefix = draw(st.sampled_from([8, 16, 24, 30, 32]))
        net = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    else:
        prefix = draw(st.sampled_from([16, 32, 64, 127, 128]))
        net = ipaddress.ip_network(f"2001:db8:{draw(st.integers(0, 3)):x}::/{prefix}", strict=False)
    text = str(net) if net.prefixlen != net.max_prefixlen or draw(st.booleans()) else str(net.network_address)
    return draw(st.sampled_from(["", "", "!", "! "])) + text


@st.composite
def cidr_tables(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.integers(0, 5)) == 0:
            lines += [f"if {draw(networks())}", f"{draw(networks())} inner", "endif"]
        else:
            lines.append(f"{draw(networks())} v{draw(st.integers(0, 99))}")
    return "\n".join(lines) + "\n"


def cidr_keys() -> st.SearchStrategy[list[str]]:
    v4 = st.tuples(st.sampled_from([10, 192, 127]), st.integers(0, 255), st.integers(0, 3),
                   st.integers(0, 255)).map(lambda t: ".".join(map(str, t)))
    v6 = st.tuples(st.integers(0, 3), st.integers(0, 0xFFFF)).map(lambda t: f"2001:db8:{t[0]:x}::{t[1]:x}")
    return st.lists(st.one_of(v4, v6, st.sampled_from(["::1", "1.2.3", "junk", "[10.0.0.1]"])),
                    min_size=4, max_size=10)


@st.composite
def texthash_tables(draw) -> str:
    words = st.text("abcAB.-@_", min_size=1, max_size=5)
    lines = [draw(words) + draw(st.sampled_from(SEPARATORS)) + draw(words)
             for _ in range(draw(st.integers(1, 8)))]
    return "\n".join(lines) + "\n"


def texthash_keys() -> st.SearchStrategy[list[str]]:
    return st.lists(st.text("abcAB.-@_", min_size=1, max_size=5), min_size=4, max_size=10)
