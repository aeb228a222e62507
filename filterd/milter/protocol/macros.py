"""Macro values as the MTA defines them (SMFIC_MACRO), kept by stage.

A stage's definitions replace that stage's earlier ones and forget every later stage's, as libmilter does:
a new MAIL forgets the last message's RCPT, DATA and end-of-message macros. Names are looked up with or
without braces: `i`, `{auth_authen}` and `auth_authen` all work.
"""

from __future__ import annotations

from functools import lru_cache

from filterd.content import decode
from filterd.milter.protocol import codes
from filterd.milter.protocol.framing import ProtocolError

ORDER = (codes.CONNECT, codes.HELO, codes.MAIL, codes.RCPT, codes.DATA, codes.EOH, codes.BODYEOB)
"""Macro stages in the order of an SMTP session."""


def bare(name: str) -> str:
    """A macro name without its braces."""
    return name[1:-1] if len(name) > 2 and name[0] == "{" and name[-1] == "}" else name


LATER = {stage: ORDER[i + 1:] for i, stage in enumerate(ORDER)}
LATEST_FIRST = ORDER[::-1]

Pairs = tuple[tuple[str, str], ...]


class Macros:
    """The macro values in force, by stage; `version` changes whenever a value may have.

    A stage's definitions are kept as they came, a packet payload perhaps, and read only when a value is
    asked for: Postfix sends macros before most commands, and most are never looked at.
    """

    def __init__(self) -> None:
        self._given: dict[bytes, Pairs | bytes] = {}
        self._other: dict[bytes, Pairs | bytes] = {}
        self._merged: dict[str, str] | None = {}
        self.version = 0

    def define(self, stage: bytes, pairs: Pairs | bytes) -> None:
        """Set a stage's macros (stage: the command code they precede; pairs, or the SMFIC_MACRO payload
        after its stage byte), forgetting the later stages."""
        given = self._given
        later = LATER.get(stage)
        if later is None:
            self._other[stage] = pairs
        else:
            for name in later:
                if name in given:
                    del given[name]
            given[stage] = pairs
        self._merged = None
        self.version += 1

    def forget_from(self, stage: bytes, keep: bool = False) -> None:
        """Forget `stage` (unless keep), every later one and those outside the session order: a new
        transaction, an abort."""
        given = self._given
        for name in LATER.get(stage, ()) + (() if keep else (stage,)):
            if name in given:
                del given[name]
        self._other.clear()
        self._merged = None
        self.version += 1

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value from the latest stage that defines `name`."""
        name = bare(name) if name[:1] == "{" else name
        if self._merged is not None:
            return self._merged.get(name, default)
        if not self._other:
            for stage in LATEST_FIRST:
                pairs = self._given.get(stage)
                if pairs and name in (named := _named(pairs)):
                    return named[name]
        return self._merge().get(name, default)

    def clear(self) -> None:
        self._given.clear()
        self._other.clear()
        self._merged = {}
        self.version += 1

    def _merge(self) -> dict[str, str]:
        """The session-order stages in order, then the others (macros for unknown commands) on top."""
        given, merged = self._given, {}
        for stage in ORDER:
            pairs = given.get(stage)
            if pairs:
                merged.update(_named(pairs))
        for pairs in self._other.values():
            merged.update(_named(pairs))
        self._merged = merged
        return merged


@lru_cache(maxsize=1024)
def _named(pairs: Pairs | bytes) -> dict[str, str]:
    """{bare name: value} from pairs, or from the NUL-terminated strings of a macro payload."""
    if type(pairs) is not bytes:
        return {bare(name): value for name, value in pairs}
    items = pairs.split(b"\0")
    if items.pop() or len(items) % 2:
        raise ProtocolError("macro name without value or string without NUL terminator")
    strings = iter(items)
    return {_bare_name(name): value.decode("utf-8", "surrogateescape") for name, value in zip(strings, strings)}


@lru_cache(maxsize=256)
def _bare_name(name: bytes) -> str:
    return bare(decode(name))


def symlists(wanted: dict[bytes, str]) -> dict[int, str]:
    """SETSYMLIST lists for OPTNEG from {command code: "names"}."""
    return {int(codes.STAGE_OF[stage]): names for stage, names in wanted.items()}
