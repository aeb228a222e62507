"""Mail addresses as Postfix reads them: RFC 822 tokens, quoted local parts, smtpd's extraction of a MAIL/RCPT
address, trivial-rewrite's local rewriting (source routes, bang paths, the percent hack, @$myorigin) and its
resolution to a delivery class with the "routed" flag that stops sender-routed relaying.

Addresses come in two forms, as in Postfix: external (RFC 5321, local part quoted where it must be:
`"a b"@example.com`) and internal (unquoted: `a b@example.com`). Sans-IO: strings in, strings out.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

from filterd.interfaces import own_addresses

ATOM, QSTRING, DOMLIT, COMMENT = "atom", "qstring", "domlit", "comment"
WORDS = (ATOM, QSTRING, DOMLIT)
OPERATORS = "|%!()<>@,;:\\\".[]"
_NEEDS_QUOTES = re.compile("[\x00-\x20\x7f" + re.escape(OPERATORS) + "]")
_NOT_DOT_STRING = re.compile("[\x00-\x20\x7f" + re.escape('()<>@,;:\\"[]') + "]")
SPACE = " \t\r\n"


@dataclass(frozen=True)
class Token:
    """One RFC 822 token: a word (atom, quoted string, domain literal), a comment, or an operator character."""

    kind: str
    text: str = ""


def scan(text: str) -> list[Token]:
    """Tokens of an external-form string, as Postfix's tok822_scan cuts them (% ! | are operators too)."""
    tokens, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch in SPACE:
            i += 1
        elif ch == "(":
            value, i = _comment(text, i + 1)
            tokens.append(Token(COMMENT, value))
        elif ch in "[\"":
            value, i = _collect(text, i + 1, lambda c, end="]" if ch == "[" else '"': c != end)
            tokens.append(Token(DOMLIT if ch == "[" else QSTRING, value))
            i += i < len(text)
        elif ch != "\\" and ch in OPERATORS:
            tokens.append(Token(ch))
            i += 1
        else:
            value, i = _collect(text, i, lambda c: c not in SPACE and c not in OPERATORS)
            tokens.append(Token(QSTRING if _needs_quotes(value) else ATOM, value))
    return tokens


def _collect(text: str, i: int, wanted) -> tuple[str, int]:
    """Characters while `wanted`, a backslash taking the next one literally; whitespace becomes a space."""
    out = []
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 1
            if i == len(text):
                break
            ch = text[i]
        elif not wanted(ch):
            break
        out.append(" " if ch in SPACE else ch)
        i += 1
    return "".join(out), i


def _comment(text: str, i: int) -> tuple[str, int]:
    """A (possibly nested) comment kept in its external form, parentheses included."""
    out, level = ["("], 1
    while i < len(text):
        ch = text[i]
        out.append(ch)
        i += 1
        if ch == "(":
            level += 1
        elif ch == ")":
            level -= 1
            if level == 0:
                break
        elif ch == "\\" and i < len(text):
            out.append(text[i])
            i += 1
    return "".join(out), i


def _needs_quotes(atom: str) -> bool:
    return _NEEDS_QUOTES.search(atom) is not None


def internalize(tokens: list[Token]) -> str:
    """Tokens back to a string, unquoted (tok822_internalize of an address)."""
    out = []
    for token, following in zip(tokens, [*tokens[1:], None]):
        out.append(f"[{token.text}]" if token.kind == DOMLIT else token.text if token.kind in (ATOM, QSTRING, COMMENT)
                   else token.kind)
        if following is not None and token.kind in (*WORDS, COMMENT) and following.kind in (*WORDS, COMMENT):
            out.append(" ")
    return "".join(out)


def _is_dot_string(local: str) -> bool:
    """Whether a local part needs no quotes (quote_822_local's is_822_dot_string, 8-bit clean)."""
    if not local or local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    return _NOT_DOT_STRING.search(local) is None


def quote_local(address: str) -> str:
    """The external form of an internal address: the local part quoted when not a dot-string (quote_822_local)."""
    start = address.index(":") + 1 if address.startswith("@") and ":" in address else 0
    at = address.rfind("@", start)
    end = at if at >= 0 else len(address)
    local = address[start:end]
    if _is_dot_string(local):
        return address
    escaped = "".join("\\" + c if c in '"\\\r' else c for c in local)
    return f'{address[:start]}"{escaped}"{address[end:]}'


def unquote_local(address: str) -> str:
    """The internal form of an external address: quotes and backslashes removed before the last bare @."""
    if '"' not in address and "\\" not in address:
        return address
    start = address.index(":") + 1 if address.startswith("@") and ":" in address else 0
    out: list[str] = []
    bare_at_out = bare_at = -1
    in_quote, i = False, start
    while i < len(address):
        ch = address[i]
        i += 1
        if ch == '"':
            in_quote = not in_quote
            continue
        if ch == "@" and not in_quote:
            bare_at_out, bare_at = len(out), i - 1
        elif ch == "\\":
            if i == len(address):
                continue
            ch, i = address[i], i + 1
        out.append(ch)
    if bare_at < 0:
        return address[:start] + "".join(out)
    return address[:start] + "".join(out[:bare_at_out]) + address[bare_at:]


def find_addresses(tokens: list[Token]) -> list[list[Token]]:
    """The address groups of a token list, as tok822_parse clusters them: two words in a row are two addresses,
    `phrase <address>` is one, comments and phrases are left out."""
    found: list[list[Token]] = []
    pending: list[Token] = []
    word_ok, i = True, len(tokens) - 1

    def close() -> None:
        if pending:
            found.append(pending[:])
            pending.clear()

    while i >= 0:
        token = tokens[i]
        if token.kind == ">":
            close()
            i = _angle_group(tokens, i - 1, found)
            word_ok = True
            continue
        if token.kind in (";", ","):
            close()
            word_ok = True
        elif token.kind in WORDS:
            if not word_ok:
                close()
            pending.insert(0, token)
            word_ok = False
        elif token.kind != COMMENT:
            pending.insert(0, token)
            word_ok = True
        i -= 1
    close()
    return found[::-1]


def _angle_group(tokens: list[Token], i: int, found: list[list[Token]]) -> int:
    """Collect `<...>` ending before index i+1 into found; return the index left of it and of its phrase."""
    inner = []
    while i >= 0 and tokens[i].kind != "<":
        if tokens[i].kind != COMMENT:
            inner.insert(0, tokens[i])
        i -= 1
    if inner:
        found.append(inner)
    while i >= 0 and tokens[i].kind not in (">", ";", ",", ":"):
        i -= 1
    return i


def extract(argument: str) -> str | None:
    """The internal form of one MAIL/RCPT address argument, "" for `<>`, None when it holds several addresses
    (smtpd's extract_addr: outer <> dropped, a source route cut, RFC 822 comments and phrases ignored)."""
    text = argument[1:-1] if argument.startswith("<") and argument.endswith(">") else argument
    if text.startswith("@") and ":" in text:
        text = text[text.index(":") + 1:]
    groups = find_addresses(scan(text))
    if len(groups) > 1:
        return None
    return internalize(groups[0]) if groups else ""


def valid_hostname(name: str) -> bool:
    """Postfix's valid_hostname: labels of letters, digits, _ and inner hyphens, at most 63 long, not all numeric."""
    if not name or len(name) > 255 or name.isdigit():
        return False
    labels = name.split(".")
    if all(label.isdigit() for label in labels if label):
        return False
    return all(_valid_label(label) for label in labels)


def _valid_label(label: str) -> bool:
    return (0 < len(label) <= 63 and not label.startswith("-") and not label.endswith("-")
            and all(c.isascii() and (c.isalnum() or c in "-_") for c in label))


def valid_utf8_hostname(name: str) -> bool:
    """A hostname, or an internationalised one whose IDNA (ASCII) form is valid."""
    if name.isascii():
        return valid_hostname(name)
    try:
        return valid_hostname(name.encode("idna").decode("ascii"))
    except UnicodeError:
        return False


def literal_address(literal: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address of a `[192.0.2.1]` or `[IPv6:2001:db8::1]` domain literal; None when not one."""
    if not (literal.startswith("[") and literal.endswith("]")):
        return None
    inner = literal[1:-1]
    try:
        if inner[:5].lower() == "ipv6:":
            return ipaddress.IPv6Address(inner[5:])
        return ipaddress.IPv4Address(inner)
    except ValueError:
        return None


LOCAL, REMOTE = "local", "remote"


@dataclass(frozen=True)
class Resolution:
    """Where an address goes (trivial-rewrite's resolve reply): the next recipient, in internal form, its class
    (local: a $mydestination domain; remote: anything else) and flags."""

    recipient: str
    address_class: str
    routed: bool = False
    error: bool = False

    @property
    def local_part(self) -> str:
        return self.recipient.rpartition("@")[0]

    @property
    def domain(self) -> str:
        return self.recipient.rpartition("@")[2]


ANSWERS_KEPT = 4096
"""Rewritten and resolved addresses remembered per process, as trivial-rewrite's clients keep their last answers:
the same senders and recipients come again and again."""


@functools.lru_cache(maxsize=ANSWERS_KEPT)
def _rewritten(rules: AddressRules, address: str) -> str:
    return rules._rewrite(address)


@functools.lru_cache(maxsize=ANSWERS_KEPT)
def _resolved(rules: AddressRules, address: str) -> Resolution:
    return rules._resolve(address)


@dataclass(frozen=True)
class AddressRules:
    """The parameters of Postfix's address rewriting and resolving that filterd honours."""

    mydestination: tuple[str, ...] = ()
    myhostname: str = "localhost"
    myorigin: str = "localhost"
    local_addresses: frozenset = frozenset()
    allow_percent_hack: bool = True
    swap_bangpath: bool = True
    resolve_dequoted_address: bool = True
    resolve_null_domain: bool = False
    empty_address_recipient: str = "MAILER-DAEMON"

    @classmethod
    def from_config(cls, config) -> AddressRules:
        """The rules of a loaded main.cf."""
        return cls(tuple(d.lower() for d in config.list("mydestination")), config.get("myhostname"),
                   config.get("myorigin"),
                   own_addresses(config.list("inet_interfaces"), config.list("proxy_interfaces")),
                   config.bool("allow_percent_hack"), config.bool("swap_bangpath"),
                   config.bool("resolve_dequoted_address"), config.bool("resolve_null_domain"))

    def is_local_domain(self, domain: str) -> bool:
        """resolve_local: $mydestination (one trailing dot ignored), or a literal of a local interface address."""
        domain = domain[:-1] if domain.endswith(".") else domain
        if not domain or domain.endswith("."):
            return False
        if _domain_listed(domain.lower(), self.mydestination):
            return True
        address = literal_address(domain)
        return address is not None and address in self.local_addresses

    def rewrite(self, address: str) -> str:
        """The internal address rewritten in the local context (trivial-rewrite's rewrite_clnt_internal)."""
        return _rewritten(self, address)

    def resolve(self, address: str) -> Resolution:
        """Where an internal address goes, as trivial-rewrite's resolve_addr decides it."""
        return _resolved(self, address)

    def _rewrite(self, address: str) -> str:
        tokens = scan(quote_local(address))
        if not tokens:
            return address
        return unquote_local(quote_local(internalize(self._rewrite_tokens(tokens))))

    def _resolve(self, address: str) -> Resolution:
        tokens, saved, remote = self._resolve_loop(address)
        if saved is not None and not remote:
            tokens = tokens + saved
        elif not remote:
            tokens = tokens + [Token("@"), *scan(self.myhostname)]
        recipient = internalize(tokens)
        domain = recipient.rpartition("@")[2]
        error = literal_address(domain) is None if domain.startswith("[") else not valid_utf8_hostname(domain)
        rest = recipient[min((recipient.find(c) for c in "@!%" if c in recipient), default=-1) + 1:]
        return Resolution(recipient, REMOTE if remote or error else LOCAL, routed=rest != domain, error=error)

    def _rewrite_tokens(self, tokens: list[Token]) -> list[Token]:
        """rewrite_tree: source route cut, domain!user and user%domain turned into user@domain, else @$myorigin."""
        if tokens == [Token(QSTRING, "")]:
            return tokens
        if tokens == [Token("@")]:
            return [Token(QSTRING, "")]
        kinds = [t.kind for t in tokens]
        if kinds[0] == "@" and ":" in kinds[:-1]:
            tokens = tokens[kinds.index(":") + 1:]
            kinds = [t.kind for t in tokens]
        if "@" not in kinds:
            if self.swap_bangpath and "!" in kinds:
                bang = kinds.index("!")
                tokens = [*tokens[bang + 1:], Token("@"), *tokens[:bang]]
            elif self.allow_percent_hack and "%" in kinds:
                percent = len(kinds) - 1 - kinds[::-1].index("%")
                tokens = [*tokens[:percent], Token("@"), *tokens[percent + 1:]]
            elif self.myorigin:
                tokens = [*tokens, Token("@"), *scan(self.myorigin)]
        if len(tokens) > 1 and tokens[-1].kind == "." and tokens[-2].kind not in (".", "@"):
            tokens = tokens[:-1]
        return tokens

    def _resolve_loop(self, address: str) -> tuple[list[Token], list[Token] | None, bool]:
        """resolve_addr's loop: strip local domains, undo routing, until a remote domain or none is left.

        Returns the tokens, the last local @domain stripped (or None) and whether a remote domain is left."""
        tokens, saved = scan(quote_local(address)), None
        for _ in range(len(address) + 100):
            tokens = self._strip_trailing(tokens)
            at = _rfind(tokens, "@")
            if at is not None:
                if at + 1 < len(tokens) and not self.is_local_domain(internalize(tokens[at + 1:])):
                    return tokens, saved, True
                tokens, saved = tokens[:at], tokens[at:]
            if self._has_routing(tokens):
                tokens = self._rewrite_tokens(tokens)
            elif (opened := self._dequoted(tokens)) is not None:
                tokens = self._rewrite_tokens(opened)
            elif not tokens or tokens == [Token(QSTRING, "")]:
                tokens = scan(self.empty_address_recipient)
            elif saved is None:
                tokens = [*tokens, Token("@"), *scan(self.myhostname)]
            else:
                return tokens, saved, False
        return tokens, saved, True

    def _strip_trailing(self, tokens: list[Token]) -> list[Token]:
        """A trailing dot after a domain goes (not dot-dot or @-dot); a trailing @ too with resolve_null_domain."""
        if (len(tokens) > 1 and tokens[-1].kind == "." and _rfind(tokens, "@") is not None
                and tokens[-2].kind not in (".", "@")):
            tokens = tokens[:-1]
        if self.resolve_null_domain and tokens and tokens[-1].kind == "@":
            tokens = tokens[:-1]
        return tokens

    def _has_routing(self, tokens: list[Token]) -> bool:
        kinds = {t.kind for t in tokens}
        return "@" in kinds or (self.swap_bangpath and "!" in kinds) or (self.allow_percent_hack and "%" in kinds)

    def _dequoted(self, tokens: list[Token]) -> list[Token] | None:
        """A lone quoted local part that hides @, % or ! re-read unquoted (resolve_dequoted_address); else None."""
        if not self.resolve_dequoted_address or len(tokens) != 1 or tokens[0].kind != QSTRING:
            return None
        local = tokens[0].text
        allowed = "@" + ("%" if self.allow_percent_hack else "") + ("!" if self.swap_bangpath else "")
        operator = next((c for c in allowed if c in local), None)
        if operator is None:
            return None
        position = local.rfind(operator)
        if operator == "%":
            local = local[:position] + "@" + local[position + 1:]
        return scan(quote_local(local) if operator in "@%" else local)


def _rfind(tokens: list[Token], kind: str) -> int | None:
    for index in range(len(tokens) - 1, -1, -1):
        if tokens[index].kind == kind:
            return index
    return None


def _domain_listed(domain: str, destinations: tuple[str, ...]) -> bool:
    """A domain in a list of domains; `.example.com` in the list matches its subdomains (match_hostname)."""
    return any(domain == d or (d.startswith(".") and domain.endswith(d)) for d in destinations)
