"""The dmarc plugin's parameters, read once per chain."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from filterd import Parameter, ParameterError, Resolver, one_of

from .organizational_domain import PublicSuffixList

ACTIONS = ("reject", "quarantine", "accept")
"""What a failing message gets, in milter_default_action's words: reject (550 5.7.1), quarantine (HOLD), accept."""
OUTCOMES = ("pass", "reject", "quarantine", "fail", "none", "temperror", "permerror")
"""The symbols' names: DMARC_PASS, DMARC_REJECT and DMARC_QUARANTINE (failed, that policy applied), DMARC_FAIL (failed,
policy none or left out by pct), DMARC_NONE (no record), DMARC_TEMPERROR, DMARC_PERMERROR (no single From domain)."""

PARAMETERS = [
    Parameter("filterd_dmarc_reject_action", "reject",
              doc="What a message gets when it fails and its domain's policy is reject: reject (550 5.7.1), "
                  "quarantine (HOLD) or accept."),
    Parameter("filterd_dmarc_quarantine_action", "quarantine",
              doc="What a message gets when it fails and its domain's policy is quarantine: reject, quarantine "
                  "(HOLD) or accept."),
    Parameter("filterd_dmarc_public_suffix_list", "/usr/share/publicsuffix/public_suffix_list.dat",
              doc="The public suffix list that gives organizational domains (Debian's publicsuffix package)."),
    Parameter("filterd_dmarc_weights",
              "pass=-0.5, reject=2, quarantine=1.5, fail=0.5, none=0, temperror=0, permerror=0", "list",
              doc="The weight each outcome adds to the score, as the symbol DMARC_OUTCOME (DMARC_REJECT, ...)."),
]


@dataclass(frozen=True)
class Settings:
    resolver: Resolver
    actions: dict[str, str]
    suffixes: PublicSuffixList
    weights: dict[str, float]


def _suffixes(name: str, path: str) -> PublicSuffixList:
    try:
        return PublicSuffixList.read(Path(path))
    except OSError as exc:
        raise ParameterError(name, f"{path}: {exc.strerror} (Debian: apt-get install publicsuffix)") from None


def _weights(name: str, items: list[str]) -> dict[str, float]:
    found = dict.fromkeys(OUTCOMES, 0.0)
    for item in items:
        outcome, sep, weight = item.partition("=")
        try:
            if not sep or outcome.strip().lower() not in OUTCOMES:
                raise ValueError
            found[outcome.strip().lower()] = float(weight)
        except ValueError:
            raise ParameterError(name, f"{item!r}: expected OUTCOME=WEIGHT, OUTCOME one of {', '.join(OUTCOMES)}")
    return found


def read(config) -> Settings:
    name = "filterd_dmarc_"
    actions = {"none": "accept", "reject": one_of(name + "reject_action", config.get(name + "reject_action"), ACTIONS),
               "quarantine": one_of(name + "quarantine_action", config.get(name + "quarantine_action"), ACTIONS)}
    return Settings(Resolver.from_config(config), actions,
                    _suffixes(name + "public_suffix_list", config.get(name + "public_suffix_list")),
                    _weights(name + "weights", config.list(name + "weights")))
