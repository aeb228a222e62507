"""main.cf-style configuration: parsing, $name expansion and typed access.

Syntax and expansion follow postconf(5), so Postfix administrators' habits carry over unchanged.
"""
from __future__ import annotations

import difflib
import operator
import re
from dataclasses import dataclass, field
from typing import Callable

KINDS = ("str", "int", "time", "size", "bool", "list")
TIME_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
TYPED_KINDS = ("int", "time", "size", "bool")

_WS = " \t\r\n"
_SPACE = " \t\n\v\f\r"
"""What Postfix's main.cf reader takes for white space (C's isspace), where Python's would take more ("\\x1c")."""
_NAME = re.compile(r"[A-Za-z0-9_]*")
_RELOPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
           ">=": operator.ge, ">": operator.gt}
_DIGITS = re.compile(r"[0-9]+")


class ConfigError(Exception):
    """A configuration problem, located as "FILE:LINE: message" or "FILE: message"."""

    def __init__(self, filename: str, lineno: int | None, message: str):
        super().__init__(filename, lineno, message)
        self.filename = filename
        self.lineno = lineno
        self.message = message

    def __str__(self) -> str:
        where = self.filename if self.lineno is None else f"{self.filename}:{self.lineno}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Parameter:
    """A known parameter: its name, unexpanded default, value kind and meaning."""

    name: str
    default: str
    kind: str = "str"
    doc: str = ""
    unit: str = "s"
    compute: Callable[[Config], str] | None = field(default=None, compare=False)
    """A default that depends on the machine and other parameters (mynetworks): computed when the value in force
    is the default, `default` then only describes it."""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown parameter kind {self.kind!r}")
        if self.unit not in TIME_UNITS:
            raise ValueError(f"{self.name}: unknown time unit {self.unit!r}")


def entry(name: str, default: str, kind: str = "str", doc: str = "") -> tuple[str, Parameter]:
    """(name, Parameter): one line of a module's table of parameters, `dict([entry(...), ...])`."""
    return name, Parameter(name, default, kind, doc)


def parse_main_cf(text: str, filename: str) -> list[tuple[str, str, int]]:
    """Split main.cf text into (name, raw value, line number) entries, in file order."""
    logical: list[tuple[int, list[str]]] = []
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        stripped = line.strip(_SPACE)
        if not stripped or stripped.startswith("#"):
            continue
        if line[0] in _SPACE:
            if not logical:
                raise ConfigError(filename, lineno, "continuation line without a preceding parameter")
            logical[-1][1].append(stripped)
        else:
            logical.append((lineno, [stripped]))
    entries = []
    for lineno, parts in logical:
        line = " ".join(parts)
        name, sep, value = line.partition("=")
        name = name.strip(_SPACE)
        if sep and not name:
            raise ConfigError(filename, lineno, f'missing parameter name: "{line}"')
        if not sep or any(c in _SPACE for c in name):
            raise ConfigError(filename, lineno, f'missing "=" after parameter name: "{line}"')
        entries.append((name, value.strip(_SPACE), lineno))
    return entries


def split_braced(text: str) -> list[str]:
    """Items separated by commas or white space, a `{ ... }` group being one item (Postfix's mystrtokq), as
    smtpd_milters and check_policy_service write them; a ValueError names an unbalanced brace."""
    items, current, depth = [], [], 0
    for char in text:
        if depth == 0 and char in ", \t\r\n":
            items.append("".join(current))
            current = []
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            raise ValueError(f'unbalanced "}}" in "{text}"')
        current.append(char)
    if depth:
        raise ValueError(f'missing "}}" in "{text}"')
    items.append("".join(current))
    return [item for item in items if item]


def unknown_message(name: str, known) -> str:
    """The 'unknown parameter' text, with a difflib did-you-mean hint when one is close."""
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return f'unknown parameter "{name}"{hint}'


class _SyntaxError(Exception):
    """Malformed $-expression in a parameter value."""


def _curly(text: str) -> tuple[str, str]:
    """Split "{payload} rest" at the balancing brace; rest loses leading whitespace."""
    depth = 0
    for i, c in enumerate(text):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[1:i], text[i + 1:].lstrip(_WS)
    raise _SyntaxError(f'unbalanced {{}} in attribute expression: "{text}"')


def _operand(text: str) -> tuple[str, str]:
    """A ?/: result operand: "{text}" (whitespace-trimmed around braces) or the raw remainder."""
    stripped = text.lstrip(_WS)
    if stripped.startswith("{"):
        return _curly(stripped)
    return text, ""


MAX_NESTING = 100
"""The deepest ${...} within ${...} Postfix's mac_expand(3) takes; one more is "unreasonable macro call nesting"."""


def _parse(text: str, depth: int = 0) -> list[tuple]:
    """Parse a value into literal, reference and conditional nodes (mac_parse(3) rules)."""
    if depth > MAX_NESTING:
        raise _SyntaxError(f'unreasonable macro call nesting: "{text}"')
    nodes: list[tuple] = []
    lit: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "$":
            lit.append(c)
            i += 1
            continue
        if text.startswith("$$", i):
            lit.append("$")
            i += 2
            continue
        i += 1
        if i < n and text[i] in "({":
            open_, close = text[i], ")" if text[i] == "(" else "}"
            level, j = 1, i + 1
            while j < n:
                if text[j] == open_:
                    level += 1
                elif text[j] == close:
                    level -= 1
                    if level == 0:
                        break
                j += 1
            else:
                raise _SyntaxError(f'truncated macro reference: "{text}"')
            body, i = text[i + 1:j], j + 1
            if not body:
                raise _SyntaxError(f'empty macro name: "{text}"')
            node = _parse_expr(body, depth + 1)
        else:
            name = _NAME.match(text, i).group()
            if not name:
                raise _SyntaxError(f'empty macro name: "{text}"')
            node, i = ("ref", name), i + len(name)
        if lit:
            nodes.append(("lit", "".join(lit)))
            lit = []
        nodes.append(node)
    if lit:
        nodes.append(("lit", "".join(lit)))
    return nodes


def _parse_expr(body: str, depth: int) -> tuple:
    """Parse the inside of ${...}: a name or relational test, optionally with ?/: operands."""
    rest = body.lstrip(_WS)
    if rest.startswith("{"):
        left, rest = _curly(rest)
        op = re.match(r"[<>!=]*", rest).group()
        if op not in _RELOPS:
            ops = " or ".join(f'"{o}"' for o in _RELOPS)
            raise _SyntaxError(f'{ops} expected at: "...{left}}}>>>{rest[:20]}"')
        rest = rest[len(op):]
        suffix = re.match(r"[A-Za-z0-9]*", rest).group()
        if suffix and suffix != "level":
            raise _SyntaxError(f'bad operator suffix at: "...{op}>>>{suffix}"')
        op, rest = op + suffix, rest[len(suffix):].lstrip(_WS)
        if not rest.startswith("{"):
            raise _SyntaxError(f'"{{expression}}" expected at: "...{op}>>>{rest[:20]}"')
        right, rest = _curly(rest)
        test = ("rel", _parse(left, depth), op, _parse(right, depth))
        if not rest:
            return ("cond", test, [("lit", "true")], None)
        if rest[0] not in "?:":
            raise _SyntaxError(f'"?" or ":" expected at: "...}}>>>{rest[:20]}"')
    else:
        k = min((p for p in (body.find("?"), body.find(":")) if p >= 0), default=len(body))
        name = body[:k].strip(_WS)
        bad = _NAME.match(name).end()
        if bad != len(name):
            raise _SyntaxError(f'attribute name syntax error at: "...{name[:bad]}>>>{name[bad:][:20]}"')
        if k == len(body):
            return ("ref", name)
        test, rest = ("name", name), body[k:]
    iftrue = None
    if rest[0] == "?":
        text, rest = _operand(rest[1:])
        iftrue = _parse(text, depth)
        if not rest:
            return ("cond", test, iftrue, None)
        if rest[0] != ":":
            raise _SyntaxError(f'":" expected at: "...{text}}}>>>{rest[:20]}"')
    text, rest = _operand(rest[1:])
    iffalse = _parse(text, depth)
    if rest:
        raise _SyntaxError(f'unexpected input at: "...{text}}}>>>{rest[:20]}"')
    return ("cond", test, iftrue, iffalse)


def _compare(left: str, op: str, right: str) -> bool:
    """Relational test: numeric when both sides are all digits, else lexicographic; with the `level` suffix
    (`<level`), compatibility levels (major.minor.patch) compared as numbers."""
    a: int | str | tuple = left
    b: int | str | tuple = right
    if op.endswith("level"):
        op, a, b = op.removesuffix("level"), compatibility_level(left), compatibility_level(right)
    elif _DIGITS.fullmatch(left) and _DIGITS.fullmatch(right):
        a, b = int(left), int(right)
    return _RELOPS[op](a, b)


def compatibility_level(text: str) -> tuple[int, int, int]:
    """A compatibility level as Postfix reads one: `2`, `3.6`, `3.6.1`; a malformed one is a ValueError."""
    match = re.fullmatch(r"\s*([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?\s*", text)
    if match is None:
        raise ValueError(f'bad compatibility level: "{text}"')
    return int(match[1]), int(match[2] or 0), int(match[3] or 0)


INT_MAX, LONG_MAX = 2**31 - 1, 2**63 - 1
"""The C types Postfix keeps times (int) and numbers (int or long) in: a value past them is refused. Numbers go
to a long, since sizes such as message_size_limit are also read as int."""


def _to_int(value: str) -> int | None:
    m = re.fullmatch(r"\s*([-+]?[0-9]+)\s*", value)
    return _within(int(m.group(1)), LONG_MAX) if m else None


def _to_size(value: str) -> int | None:
    m = re.fullmatch(r"\s*\+?([0-9]+)\s*", value)
    return _within(int(m.group(1)), LONG_MAX) if m else None


def _to_time(value: str, unit: str) -> float | None:
    m = re.fullmatch(r"\s*\+?([0-9]+)([a-z]?)\s*", value)
    if not m or (m.group(2) and m.group(2) not in TIME_UNITS):
        return None
    seconds = _within(int(m.group(1)) * TIME_UNITS[m.group(2) or unit], INT_MAX)
    return None if seconds is None else float(seconds)


def _within(number: int, limit: int) -> int | None:
    return number if -limit - 1 <= number <= limit else None


def _to_bool(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value.strip().lower())


class Config:
    """Parameter values in force: file entries, then overrides, else defaults from `known`."""

    def __init__(self, entries: list[tuple[str, str, int]], known: dict[str, Parameter],
                 filename: str = "main.cf", overrides: dict[str, str] | None = None):
        self.filename = filename
        self._known = dict(known)
        self._values: dict[str, str] = {}
        self._lines: dict[str, int | None] = {}
        self._overridden: set[str] = set()
        self._parsed: dict[str, list[tuple]] = {}
        self._expanded: dict[str, str] = {}
        self._computed: dict[str, str] = {}
        for name, value, lineno in entries:
            if name not in self._known:
                raise ConfigError(filename, lineno, unknown_message(name, self._known))
            self._values[name] = value
            self._lines[name] = lineno
        for name, value in (overrides or {}).items():
            if name not in self._known:
                raise ConfigError(filename, None, "override: " + unknown_message(name, self._known))
            self._values[name] = value
            self._lines[name] = None
            self._overridden.add(name)
        for name in self._values:
            self.get(name)
        for name, param in self._known.items():
            if param.kind in TYPED_KINDS:
                self._convert(name, param.kind)

    def lineno(self, name: str) -> int | None:
        """Line of the main.cf entry in force for `name`; None for defaults and overrides."""
        return self._lines.get(name)

    def error(self, name: str, message: str) -> ConfigError:
        """A ConfigError about parameter `name`, located where its value was set."""
        label = name
        if name in self._overridden:
            label = f"{name} (override)"
        elif name not in self._values:
            label = f"{name} (default)"
        return ConfigError(self.filename, self._lines.get(name), f"{label}: {message}")

    def raw(self, name: str) -> str:
        """Unexpanded value in force: file or override, else the default."""
        if name in self._values:
            return self._values[name]
        if name not in self._known:
            raise KeyError(name)
        param = self._known[name]
        if param.compute is None:
            return param.default
        if name not in self._computed:
            try:
                self._computed[name] = param.compute(self)
            except ValueError as exc:
                raise self.error(name, str(exc)) from None
        return self._computed[name]

    def get(self, name: str) -> str:
        """Value with $name, ${name}, $(name) and ${name?x}/${name:x} forms expanded recursively."""
        if name not in self._known:
            raise KeyError(name)
        try:
            return self._expand_name(name, ())
        except RecursionError:
            raise self.error(name, "unreasonable macro call nesting") from None
        except ValueError as exc:
            level = "compatibility_level"
            culprit = level if level in self._known and f'"{self.raw(level)}"' in str(exc) else name
            raise self.error(culprit, str(exc)) from None

    __getitem__ = get

    def _nodes(self, name: str) -> list[tuple]:
        if name not in self._parsed:
            try:
                self._parsed[name] = _parse(self.raw(name))
            except _SyntaxError as exc:
                raise self.error(name, str(exc)) from None
        return self._parsed[name]

    def _expand_name(self, name: str, stack: tuple[str, ...]) -> str:
        if name not in self._known:
            return ""
        if name in stack:
            cycle = stack[stack.index(name):] + (name,)
            chain = " -> ".join("$" + n for n in cycle)
            raise self.error(name, f"recursive parameter expansion: {chain}")
        if name not in self._expanded:
            self._expanded[name] = self._expand(self._nodes(name), stack + (name,))
        return self._expanded[name]

    def _expand(self, nodes: list[tuple], stack: tuple[str, ...]) -> str:
        out = []
        for node in nodes:
            if node[0] == "lit":
                out.append(node[1])
            elif node[0] == "ref":
                out.append(self._expand_name(node[1], stack))
            else:
                _, test, iftrue, iffalse = node
                if test[0] == "name":
                    truth = test[1] in self._known and self.raw(test[1]) != ""
                else:
                    _, left, op, right = test
                    truth = _compare(self._expand(left, stack), op, self._expand(right, stack))
                branch = iftrue if truth else iffalse
                if branch:
                    out.append(self._expand(branch, stack))
        return "".join(out)

    def _convert(self, name: str, kind: str):
        value = self.get(name)
        if kind == "int":
            result, want = _to_int(value), "an integer"
        elif kind == "size":
            result, want = _to_size(value), "a non-negative number of bytes"
        elif kind == "time":
            unit = self._known[name].unit
            result = _to_time(value, unit)
            want = f"a non-negative integer with optional unit s, m, h, d or w (default {unit})"
        else:
            result, want = _to_bool(value), "yes or no"
        if result is None:
            raise self.error(name, f'bad {kind} value "{value}": expected {want}')
        return result

    def int(self, name: str) -> int:
        """Integer value (optional sign, decimal digits)."""
        return self._convert(name, "int")

    def time(self, name: str) -> float:
        """Time in seconds; Postfix units s m h d w, a bare number uses the parameter's unit."""
        return self._convert(name, "time")

    def size(self, name: str) -> int:
        """Size in bytes (non-negative integer, no unit suffix, as in Postfix)."""
        return self._convert(name, "size")

    def bool(self, name: str) -> bool:
        """Boolean: yes or no, case-insensitive."""
        return self._convert(name, "bool")

    def list(self, name: str) -> list[str]:
        """Expanded value split on commas and/or whitespace, empty items dropped."""
        return [item for item in re.split(r"[,\s]+", self.get(name)) if item]

    def non_default(self) -> dict[str, str]:
        """Parameters set in the file or by overrides, with raw values, sorted by name."""
        return {name: self._values[name] for name in sorted(self._values)}

    def known(self) -> dict[str, Parameter]:
        """The parameter definitions this configuration was validated against."""
        return dict(self._known)


def load(path: str, known: dict[str, Parameter], overrides: dict[str, str] | None = None) -> Config:
    """Read and validate a main.cf file."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror or exc}") from None
    return Config(parse_main_cf(text, path), known, path, overrides)
