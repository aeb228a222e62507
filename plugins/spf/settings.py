"""The spf plugin's parameters, read once per chain."""

from __future__ import annotations

from dataclasses import dataclass

from filterd import Parameter, ParameterError, Resolver

RESULTS = ("pass", "fail", "softfail", "neutral", "none", "temperror", "permerror")

PARAMETERS = [
    Parameter("filterd_spf_reject", "", "list",
              doc="The SPF results, of the sender or of the HELO name, that refuse MAIL FROM: fail (policyd-spf's "
                  "default), softfail, neutral, none, permerror: 550 5.7.23; temperror: 451 4.4.3. Empty: none "
                  "refuses, the results are scored and DMARC decides."),
    Parameter("filterd_spf_weights", "pass=-0.2, fail=1, softfail=0.5, neutral=0, none=0, temperror=0, permerror=0",
              "list", doc="The weight each SPF result adds to the score, as the symbol SPF_RESULT (SPF_FAIL, ...)."),
    Parameter("filterd_spf_received_header", "no", "bool",
              doc="Also add Received-SPF, as policyd-spf does, for the sender's result (the HELO name's for the null "
                  "sender)."),
]


@dataclass(frozen=True)
class Settings:
    resolver: Resolver
    reject: frozenset[str]
    weights: dict[str, float]
    received_header: bool = False
    receiver: str = ""


def _results(name: str, words: list[str]) -> frozenset[str]:
    unknown = [word for word in words if word.lower() not in RESULTS]
    if unknown:
        raise ParameterError(name, f"unknown SPF result {unknown[0]!r}: expected {', '.join(RESULTS)}")
    return frozenset(word.lower() for word in words)


def weights(name: str, items: list[str], results: tuple[str, ...]) -> dict[str, float]:
    """`result=weight` items as a dict; a result left out weighs 0."""
    found = dict.fromkeys(results, 0.0)
    for item in items:
        result, sep, weight = item.partition("=")
        try:
            if not sep or result.strip().lower() not in results:
                raise ValueError
            found[result.strip().lower()] = float(weight)
        except ValueError:
            raise ParameterError(name, f"{item!r}: expected RESULT=WEIGHT, RESULT one of {', '.join(results)}")
    return found


def read(config) -> Settings:
    return Settings(Resolver.from_config(config), _results("filterd_spf_reject", config.list("filterd_spf_reject")),
                    weights("filterd_spf_weights", config.list("filterd_spf_weights"), RESULTS),
                    config.bool("filterd_spf_received_header"), config.get("myhostname"))
