"""The one Authentication-Results header (RFC 8601) the core writes once a stage's chain is done, from the results
plugins reported (`Verdict.auth_result`), with authserv-id = myhostname; and the removal of incoming ones that claim
that authserv-id, which only this host may write (RFC 8601 section 5).
"""

from __future__ import annotations

import re

import authres

from filterd import edits as _edits
from filterd.content import Header
from filterd.verdict import AuthResult, InsertHeader

NAME = "Authentication-Results"
_COMMENT = re.compile(r"\((?:[^()\\]|\\.)*\)")
_AUTHSERV_ID = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))')
_UNSAFE = re.compile(r'[\x00-\x20;()"\\\x7f]')
_QUOTED_LOCAL_PART = re.compile(r'"(?:[^"\\\r\n]|\\.)*"@[^\x00-\x20;()"\\\x7f]+')


def authserv_id(value: str) -> str:
    """The authserv-id an Authentication-Results value claims (its first token, comments left out), lower case;
    read leniently, as a forged header need not be well-formed."""
    previous = None
    while previous != value:
        previous, value = value, _COMMENT.sub(" ", value)
    found = _AUTHSERV_ID.match(value)
    if not found:
        return ""
    return (found[1] if found[1] is not None else found[2]).replace("\\", "").lower()


def claiming(headers: list[Header], our_id: str) -> list[Header]:
    """The Authentication-Results headers that claim our authserv-id."""
    ours = our_id.lower()
    return [h for h in headers if h.name.lower() == NAME.lower() and authserv_id(h.value) == ours]


def header_value(our_id: str, results: tuple[AuthResult, ...]) -> str:
    """`myhostname; spf=pass smtp.mailfrom=example.org; dkim=...`, one result a line (authres quotes the values)."""
    if not results:
        return str(authres.AuthenticationResultsHeader(authserv_id=our_id).header_value())
    parts = [our_id] + [_formatted(result) for result in results]
    return ";\r\n\t".join(parts)


def _formatted(result: AuthResult) -> str:
    properties = []
    for name, value in result.properties:
        ptype, _, prop = name.partition(".")
        properties.append(authres.AuthenticationResultProperty(ptype, prop, _pvalue(value)))
    reason = " ".join(result.reason.split()) or None
    found = authres.AuthenticationResult(method=result.method, result=result.result, reason=reason,
                                         properties=properties)
    return str(found)


def _pvalue(value: str) -> str:
    """The value, line breaks left out; an address that would end the result or the header as a quoted-string
    (authres quotes other values, but writes anything with an @ as it is)."""
    value = value.replace("\r", "").replace("\n", "")
    if "@" not in value or not _UNSAFE.search(value) or _QUOTED_LOCAL_PART.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def header_edits(headers: list[Header], our_id: str, results: tuple[AuthResult, ...],
                 remove_forged: bool = True) -> list[_edits.AnyEdit]:
    """The edits that write the header at the top, having removed those that claim our authserv-id."""
    removed = [_edits.Remove(header) for header in claiming(headers, our_id)] if remove_forged else []
    return [*removed, InsertHeader(NAME, header_value(our_id, results), 0)]
