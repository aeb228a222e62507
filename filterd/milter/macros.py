"""Macro values as the MTA defines them (SMFIC_MACRO), kept by stage.

A stage's definitions replace that stage's earlier ones and forget every later stage's, as libmilter does:
a new MAIL forgets the last message's RCPT, DATA and end-of-message macros. Names are looked up with or
without braces: `i`, `{auth_authen}` and `auth_authen` all work.
"""

from __future__ import annotations

from functools import lru_cache

from filterd.milter import codes

ORDER = (codes.CONNECT, codes.HELO, codes.MAIL, codes.RCPT, codes.DATA, codes.EOH, codes.BODYEOB)
"""Macro stages in the order of an SMTP session."""


def bare(name: str) -> str:
    """A macro name without its braces."""
    return name[1:-1] if len(name) > 2 and name[0] == "{" and name[-1] == "}" else name


LATER = {stage: ORDER[i + 1:] for i, stage in enumerate(ORDER)}
EARLIER = {stage: ORDER[:i][::-1] for i, stage in enumerate(ORDER)}


class Macros:
    """The macro values in force, by stage; `version` changes whenever a value may have.

    Each stage keeps the values in force up to it (its own over the earlier stages'), so that a lookup
    is one dict access; macros for commands outside the session order (unknown commands) come on top.
    """

    def __init__(self) -> None:
        self._given: dict[bytes, tuple[tuple[str, str], ...]] = {}
        self._upto: dict[bytes, dict[str, str]] = {}
        self._other: dict[str, str] = {}
        self._merged: dict[str, str] = {}
        self.version = 0

    def define(self, stage: bytes, pairs: tuple[tuple[str, str], ...]) -> None:
        """Set a stage's macros (stage: the command code they precede), forgetting the later stages."""
        given = self._given
        later = [name for name in LATER.get(stage, ()) if name in given]
        if not later and given.get(stage) == pairs:
            return
        if stage not in LATER:
            given[stage] = pairs
            self._other.update(_bare_names(pairs))
            return self._changed(self._latest())
        if later:
            self._drop(later)
        given[stage] = pairs
        before = next((self._upto[s] for s in EARLIER[stage] if s in self._upto), {})
        self._upto[stage] = {**before, **_bare_names(pairs)}
        self._changed(self._upto[stage])

    def forget_from(self, stage: bytes, keep: bool = False) -> None:
        """Forget `stage` (unless keep) and every later one: a new transaction, an abort."""
        if self._drop(LATER.get(stage, ()) + (() if keep else (stage,))):
            self._other.clear()
            self._changed(self._latest())

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value from the latest stage that defines `name`."""
        return self._merged.get(bare(name) if name[:1] == "{" else name, default)

    def clear(self) -> None:
        self._given.clear()
        self._upto.clear()
        self._other.clear()
        self._changed({})

    def _drop(self, stages: tuple[bytes, ...] | list[bytes]) -> bool:
        dropped = False
        for stage in stages:
            dropped |= self._given.pop(stage, None) is not None
            self._upto.pop(stage, None)
        return dropped

    def _latest(self) -> dict[str, str]:
        return next((self._upto[stage] for stage in reversed(ORDER) if stage in self._upto), {})

    def _changed(self, merged: dict[str, str]) -> None:
        self._merged = {**merged, **self._other} if self._other else merged
        self.version += 1


@lru_cache(maxsize=1024)
def _bare_names(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {bare(name): value for name, value in pairs}


def symlists(wanted: dict[bytes, str]) -> dict[int, str]:
    """SETSYMLIST lists for OPTNEG from {command code: "names"}."""
    return {int(codes.STAGE_OF[stage]): names for stage, names in wanted.items()}
