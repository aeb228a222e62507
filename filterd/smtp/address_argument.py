"""The address of a MAIL FROM, RCPT TO or VRFY argument, read and checked as Postfix's smtpd does: words split as
smtpd_token splits them (<...> and "..." hold spaces), the address extracted from the first (from the whole
argument for VRFY: extract_addr), and refused when it does not resolve (smtpd_check_addr). Sans-IO.
"""

from __future__ import annotations

import re

from filterd.addresses import COMMENT, AddressRules, extract, quote_local, scan

MALFORMED = None


def split_words(text: str) -> list[str] | None:
    """Whitespace-separated words, where `<...>` (nesting) and `"..."` keep theirs; None when one is not closed."""
    words, word, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            if word:
                words.append("".join(word))
                word = []
            i += 1
        elif ch in '<"':
            end = _closing(text, i + 1, ">" if ch == "<" else '"')
            if end is None:
                return None
            word.append(text[i:end])
            i = end
        else:
            end = min(i + 2, len(text)) if ch == "\\" else i + 1
            word.append(text[i:end])
            i = end
    return words + ["".join(word)] if word else words


def smtpd_tokens(text: str) -> list[str]:
    """The words of a command's argument as smtpd_token() splits them (`<...>` and `"..."` keep their spaces; one
    left open runs to the end of the line)."""
    words = split_words(text)
    if words is not None:
        return words
    return _open_quote_tokens(text)


def _open_quote_tokens(text: str) -> list[str]:
    """split_words for a line whose last quote or bracket is not closed: that word is the rest of the line."""
    for cut in range(len(text), -1, -1):
        if cut == 0 or text[cut - 1].isspace():
            words = split_words(text[:cut])
            if words is not None:
                return words + [text[cut:].strip()]
    return [text.strip()]


def _closing(text: str, i: int, wanted: str) -> int | None:
    """The index after the character that closes a quote or bracket opened before i (smtp_quoted)."""
    stack = [wanted]
    while i < len(text):
        ch = text[i]
        i += 1
        if ch == "\\":
            i += 1
        elif ch == stack[-1]:
            stack.pop()
            if not stack:
                return i
        elif ch == '"':
            stack.append('"')
        elif ch == "<" and stack[-1] == ">":
            stack.append(">")
    return None


def envelope_address(argument: str, rules: AddressRules, sender: bool, smtputf8: bool,
                     strict: bool = False) -> tuple[str, str] | None:
    """(address in external form, the parameters after it), the null sender as "<>"; None when malformed (with
    strict_rfc821_envelopes, also when not in <> or with comments or phrases)."""
    words = split_words(argument)
    if not words:
        return None if words is None else ("", "")
    simple = _simple(words[0])
    internal = simple if simple is not None else extract(words[0])
    if internal is None or (not internal and not sender):
        return MALFORMED
    if strict and simple is None and not _strict(words[0], internal):
        return MALFORMED
    if internal and simple is None and not _resolves(internal, rules, smtputf8):
        return MALFORMED
    return quote_local(internal) if internal else "<>", " ".join(words[1:])


def illegal_word(argument: str) -> str | None:
    """The word Postfix's `Illegal address syntax` warning shows for a refused address (printable, the rest as
    ?); None where smtpd refuses without it (an unclosed <> or quote, no address at all)."""
    words = split_words(argument)
    if not words:
        return None
    return "".join(c if c.isprintable() else "?" for c in words[0])


def _strict(word: str, internal: str) -> bool:
    """strict_rfc821_envelopes: the address in <>, without comments or phrases, not a bare @domain."""
    if not (word.startswith("<") and word.endswith(">")) or internal.startswith("@"):
        return False
    return not any(token.kind in (COMMENT, "<", ">", ",", ";") for token in scan(word[1:-1]))


def recipient_address(text: str, rules: AddressRules, smtputf8: bool) -> str | None:
    """The internal form of a whole argument taken as one recipient address, as VRFY's extract_addr() takes it
    (`Name <user@example.com>` too); None when it holds no address or several, or one that does not resolve."""
    internal = extract(text)
    if not internal or not _resolves(internal, rules, smtputf8):
        return MALFORMED
    return internal


def _resolves(internal: str, rules: AddressRules, smtputf8: bool) -> bool:
    """smtpd_check_addr: the address resolves without error, to an ASCII domain unless the client said SMTPUTF8."""
    resolution = rules.resolve(rules.rewrite(internal))
    return not resolution.error and (smtputf8 or resolution.domain.isascii())


def _simple(word: str) -> str | None:
    """The common `<local@domain>` whose checks need no resolving: the address, or None when not that simple."""
    match = _SIMPLE.match(word)
    if match is None:
        return None
    domain = match["domain"][:-1] if match["domain"].endswith(".") else match["domain"]
    valid = len(domain) <= 255 and _HOSTNAME.match(domain) and not domain.replace(".", "").isdigit()
    return match["address"] if valid else None


_SIMPLE = re.compile(r"^<(?P<address>(?!\.)(?:[A-Za-z0-9#$&'*+/=?^_`{|}~-]|\.(?!\.))+(?<!\.)"
                     r"@(?P<domain>[A-Za-z0-9.-]+))>$")
_HOSTNAME = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*$")
