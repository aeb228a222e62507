"""One verdict vocabulary for every stage and front end: Postfix's action words, plus edits.

A hook answers with a Verdict (or None, meaning DUNNO, or a string such as "REJECT 5.7.1 no").
Edits (header and body changes) travel inside verdicts and are applied by the core once the
chain is done; front ends only translate the outcome to their wire form.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO


class Action(enum.Enum):
    """Postfix's action words (access(5), header_checks(5))."""

    OK = "OK"
    DUNNO = "DUNNO"
    REJECT = "REJECT"
    DEFER = "DEFER"
    DISCARD = "DISCARD"
    HOLD = "HOLD"
    WARN = "WARN"
    INFO = "INFO"
    IGNORE = "IGNORE"
    STRIP = "STRIP"
    PREPEND = "PREPEND"
    REPLACE = "REPLACE"
    REDIRECT = "REDIRECT"
    FILTER = "FILTER"
    BCC = "BCC"
    PASS = "PASS"

    __hash__ = object.__hash__  # members are singletons; Enum's own hash is a Python call on every set lookup


FINAL = frozenset({Action.REJECT, Action.DEFER, Action.DISCARD})
"""Actions that end the chain and decide the transaction."""

_CODE_TEXT = re.compile(
    r"^(?:(?P<code>[245]\d\d)(?:[ -]+|$))?(?:(?P<dsn>[245]\.\d{1,3}\.\d{1,3})(?:\s+|$))?(?P<text>.*)$", re.S
)


@dataclass(frozen=True)
class AddHeader:
    """Append a header at the end of the header section (milter ADDHEADER)."""

    name: str
    value: str


@dataclass(frozen=True)
class InsertHeader:
    """Insert a header at position `index` (0 = top; milter INSHEADER)."""

    name: str
    value: str
    index: int = 0


@dataclass(frozen=True)
class ChangeHeader:
    """Change the n-th (1-based) header called `name`; an empty value deletes it (milter CHGHEADER)."""

    name: str
    value: str
    occurrence: int = 1


@dataclass(frozen=True)
class DeleteHeader:
    """Delete the n-th (1-based) header called `name`."""

    name: str
    occurrence: int = 1


@dataclass(frozen=True)
class ReplaceBody:
    """Replace the message body with bytes, with the contents of a file, or with an open binary file from its start
    (CRLF line ends; the core closes it): a body never held in memory."""

    body: bytes | Path | IO[bytes]


@dataclass(frozen=True)
class AddRecipient:
    """Add an envelope recipient (milter ADDRCPT); `args` are its ESMTP parameters."""

    address: str
    args: str = ""


@dataclass(frozen=True)
class DeleteRecipient:
    """Remove an envelope recipient (milter DELRCPT)."""

    address: str


@dataclass(frozen=True)
class ChangeSender:
    """Replace the envelope sender (milter CHGFROM); `args` are its ESMTP parameters."""

    address: str
    args: str = ""


@dataclass(frozen=True)
class Symbol:
    """A named finding with a weight toward the message's one score (Rspamd's symbol): positive for spam, negative
    for ham. `text` says why, for the log and `filterd check`."""

    name: str
    weight: float
    text: str = ""

    def __str__(self) -> str:
        return f"{self.name}({self.weight:g})"


@dataclass(frozen=True)
class AuthResult:
    """One authentication method's result (RFC 8601), as a plugin reports it for the Authentication-Results header
    the core writes: `method` (spf, dkim, arc, dmarc), `result` (pass, fail, softfail, neutral, none, temperror,
    permerror, policy), `reason`, and `properties`, ("ptype.property", value) pairs such as ("smtp.mailfrom",
    "example.org"), ("header.d", "example.org"), ("header.from", "example.org"); a dict is taken too."""

    method: str
    result: str
    reason: str = ""
    properties: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        pairs = self.properties.items() if isinstance(self.properties, dict) else self.properties
        object.__setattr__(self, "properties", tuple((str(name), str(value)) for name, value in pairs))
        object.__setattr__(self, "method", self.method.lower())
        object.__setattr__(self, "result", self.result.lower())

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of the first property called `name` ("header.d"), case-insensitively."""
        return next((value for key, value in self.properties if key.lower() == name.lower()), default)

    def __str__(self) -> str:
        reason = f' reason="{self.reason}"' if self.reason else ""
        return f"{self.method}={self.result}{reason}" + "".join(f" {key}={value}" for key, value in self.properties)


Edit = (AddHeader | InsertHeader | ChangeHeader | DeleteHeader | ReplaceBody | AddRecipient | DeleteRecipient
        | ChangeSender)
ENVELOPE_EDITS = (AddRecipient, DeleteRecipient, ChangeSender)


CHANGE_WORDS = {action: action.value.lower() for action in (Action.HOLD, Action.IGNORE, Action.STRIP, Action.PREPEND,
                                                            Action.REPLACE, Action.REDIRECT, Action.FILTER, Action.BCC)}
EDIT_NAMES = {AddHeader: "add_header", InsertHeader: "insert_header", ChangeHeader: "change_header",
              DeleteHeader: "delete_header", ReplaceBody: "replace_body", AddRecipient: "add_recipient",
              DeleteRecipient: "delete_recipient", ChangeSender: "change_sender"}
CHANGES = frozenset(CHANGE_WORDS.values()) | frozenset(EDIT_NAMES.values()) | {"symbol", "auth_result"}
"""What the `changes` hook declares: the action words and edits (by Verdict constructor name) that change
the message or where it goes, "symbol" (adding to the score, which may add headers or hold the message) and
"auth_result" (reporting an authentication result: the core writes Authentication-Results, removing forged ones).
Replies change nothing and need no declaration."""
REPLIES = frozenset({"ok", "dunno", "reject", "defer", "discard", "warn", "info", "pass"})


@dataclass(frozen=True)
class Verdict:
    """What a hook decided: an action word, its argument or reply, and any edits."""

    action: Action = Action.DUNNO
    text: str = ""
    code: int | None = None
    dsn: str | None = None
    edits: tuple[Edit, ...] = field(default=())
    symbols: tuple[Symbol, ...] = field(default=())
    """Findings added to the message's score; the core weighs them once the chain is done (filterd.score)."""
    auth_results: tuple[AuthResult, ...] = field(default=())
    """Authentication results for later plugins (the `auth_results` argument) and the Authentication-Results header."""
    logged: str = field(default="", compare=False)
    """What the log line says in place of `text`, where Postfix logs more than the argument (an access table's
    REDIRECT: `<R>: Recipient address triggers REDIRECT NEW`)."""

    @property
    def final(self) -> bool:
        return self.action in FINAL

    def reply(self) -> tuple[int, str, str]:
        """The SMTP reply (code, enhanced status, text) for REJECT/DEFER, Postfix's defaults filled in."""
        if self.action is Action.DEFER:
            code, dsn, text = self.code or 450, self.dsn or "4.7.1", self.text or "Service unavailable"
        elif self.action is Action.REJECT:
            code, dsn, text = self.code or 550, self.dsn or "5.7.1", self.text or "Access denied"
        else:
            code, dsn, text = self.code or 250, self.dsn or "2.0.0", self.text or "Ok"
        return code, dsn, text

    def with_edits(self, *edits: Edit) -> Verdict:
        return replace(self, edits=self.edits + tuple(edits))

    def with_symbol(self, name: str, weight: float, text: str = "") -> Verdict:
        """This verdict, adding a symbol to the message's score."""
        return replace(self, symbols=self.symbols + (Symbol(name, weight, text),))

    def with_auth_result(self, method: str, result: str, reason: str = "",
                         properties: dict[str, str] | tuple[tuple[str, str], ...] = ()) -> Verdict:
        """This verdict, reporting an authentication result (`AuthResult`)."""
        return replace(self, auth_results=self.auth_results + (AuthResult(method, result, reason, properties),))

    def __str__(self) -> str:
        if self.action in FINAL and (self.code or self.dsn):
            code, dsn, text = self.reply()
            return f"{self.action.value} {code} {dsn} {text}"
        return f"{self.action.value} {self.text}".rstrip()

    # Constructors, one per action word, so plugins read like Postfix tables.
    @classmethod
    def ok(cls) -> Verdict:
        return cls(Action.OK)

    @classmethod
    def dunno(cls) -> Verdict:
        return cls(Action.DUNNO)

    @classmethod
    def reject(cls, text: str = "", code: int | None = None) -> Verdict:
        """REJECT [code] [x.y.z] text; a 4xx code or 4.x.x status makes it a deferral, as in Postfix."""
        code, dsn, text = _split_reply(text, code)
        if (code and code // 100 == 4) or (dsn and dsn.startswith("4")):
            return cls(Action.DEFER, text, code or 450, dsn or "4.7.1")
        return cls(Action.REJECT, text, code, dsn)

    @classmethod
    def defer(cls, text: str = "", code: int | None = None) -> Verdict:
        code, dsn, text = _split_reply(text, code)
        if code and code // 100 != 4:
            raise ValueError(f"DEFER needs a 4xx code, not {code}")
        if dsn and not dsn.startswith("4"):
            raise ValueError(f"DEFER needs a 4.x.x status, not {dsn}")
        return cls(Action.DEFER, text, code, dsn)

    @classmethod
    def discard(cls, text: str = "") -> Verdict:
        return cls(Action.DISCARD, text)

    @classmethod
    def hold(cls, text: str = "") -> Verdict:
        return cls(Action.HOLD, text)

    @classmethod
    def warn(cls, text: str = "") -> Verdict:
        return cls(Action.WARN, text)

    @classmethod
    def reject_warning(cls, refusal: Verdict) -> Verdict:
        """A REJECT or DEFER logged and not enforced, as Postfix's warn_if_reject logs it (`reject_warning: 554
        5.7.1 ...`): a WARN that carries the refusal's reply."""
        code, dsn, text = refusal.reply()
        return cls(Action.WARN, text, code, dsn)

    @classmethod
    def info(cls, text: str = "") -> Verdict:
        return cls(Action.INFO, text)

    @classmethod
    def ignore(cls) -> Verdict:
        return cls(Action.IGNORE)

    @classmethod
    def strip(cls, text: str = "") -> Verdict:
        return cls(Action.STRIP, text)

    @classmethod
    def prepend(cls, text: str) -> Verdict:
        return cls(Action.PREPEND, text)

    @classmethod
    def replace(cls, text: str) -> Verdict:
        return cls(Action.REPLACE, text)

    @classmethod
    def redirect(cls, address: str) -> Verdict:
        return cls(Action.REDIRECT, address)

    @classmethod
    def filter(cls, nexthop: str) -> Verdict:
        return cls(Action.FILTER, nexthop)

    @classmethod
    def bcc(cls, address: str) -> Verdict:
        return cls(Action.BCC, address)

    @classmethod
    def pass_(cls, text: str = "") -> Verdict:
        return cls(Action.PASS, text)

    @classmethod
    def symbol(cls, name: str, weight: float, text: str = "") -> Verdict:
        """No decision, a symbol added to the message's score: `Verdict.symbol("SPF_FAIL", 2.5, "ip 192.0.2.1")`."""
        return cls(symbols=(Symbol(name, weight, text),))

    @classmethod
    def auth_result(cls, method: str, result: str, reason: str = "",
                    properties: dict[str, str] | tuple[tuple[str, str], ...] = ()) -> Verdict:
        """No decision, an authentication result reported: `Verdict.auth_result("spf", "pass", properties={
        "smtp.mailfrom": "example.org"})`."""
        return cls(auth_results=(AuthResult(method, result, reason, properties),))

    # Edits without a routing decision.
    @classmethod
    def add_header(cls, name: str, value: str) -> Verdict:
        return cls(edits=(AddHeader(name, value),))

    @classmethod
    def insert_header(cls, name: str, value: str, index: int = 0) -> Verdict:
        return cls(edits=(InsertHeader(name, value, index),))

    @classmethod
    def change_header(cls, name: str, value: str, occurrence: int = 1) -> Verdict:
        return cls(edits=(ChangeHeader(name, value, occurrence),))

    @classmethod
    def delete_header(cls, name: str, occurrence: int = 1) -> Verdict:
        return cls(edits=(DeleteHeader(name, occurrence),))

    @classmethod
    def replace_body(cls, body: bytes | Path) -> Verdict:
        return cls(edits=(ReplaceBody(body),))

    @classmethod
    def add_recipient(cls, address: str, args: str = "") -> Verdict:
        return cls(edits=(AddRecipient(address, args),))

    @classmethod
    def delete_recipient(cls, address: str) -> Verdict:
        return cls(edits=(DeleteRecipient(address),))

    @classmethod
    def change_sender(cls, address: str, args: str = "") -> Verdict:
        return cls(edits=(ChangeSender(address, args),))

    @classmethod
    def parse(cls, value: str) -> Verdict:
        """Parse a Postfix table result such as "REJECT 5.7.1 go away" or "PREPEND X-Tag: yes"."""
        word, _, rest = value.strip().partition(" ")
        rest = rest.strip()
        if re.fullmatch(r"[245]\d\d", word):
            return cls.reject(value) if word[0] in "45" else cls.ok()
        try:
            action = Action(word.upper())
        except ValueError:
            raise ValueError(f"unknown action {word!r}") from None
        if action is Action.REJECT:
            return cls.reject(rest)
        if action is Action.DEFER:
            return cls.defer(rest)
        if action in (Action.PREPEND, Action.REPLACE, Action.REDIRECT, Action.FILTER, Action.BCC) and not rest:
            raise ValueError(f"{action.value} needs an argument")
        return cls(action, rest)


def _split_reply(text: str, code: int | None) -> tuple[int | None, str | None, str]:
    """Split "550 5.7.1 text" into its parts; each part may be missing."""
    m = _CODE_TEXT.match(text.strip())
    if not m:
        return code, None, text.strip()
    got_code = int(m["code"]) if m["code"] else None
    if got_code and code and got_code != code:
        raise ValueError(f"reply code {got_code} conflicts with code={code}")
    dsn = m["dsn"]
    final_code = got_code or code
    if dsn and final_code and dsn[0] != str(final_code)[0]:
        raise ValueError(f"enhanced status {dsn} does not match reply code {final_code}")
    return final_code, dsn, m["text"].strip()


def coerce(value: object) -> Verdict:
    """Turn what a hook returned (None, Verdict, str) into a Verdict."""
    if value is None:
        return Verdict()
    if isinstance(value, Verdict):
        return value
    if isinstance(value, str):
        return Verdict.parse(value)
    raise TypeError(f"a hook must return None, a Verdict or an action string, not {type(value).__name__}")


def changes_of(verdict: Verdict) -> frozenset[str]:
    """The changes (names in CHANGES) a verdict makes, with those of the verdicts it carries (`earlier`)."""
    made = {EDIT_NAMES.get(type(edit), type(edit).__name__) for edit in verdict.edits}
    word = CHANGE_WORDS.get(verdict.action)
    if word is not None:
        made.add(word)
    if verdict.symbols:
        made.add("symbol")
    if verdict.auth_results:
        made.add("auth_result")
    for earlier in getattr(verdict, "earlier", ()):
        made |= changes_of(earlier)
    return frozenset(made)
