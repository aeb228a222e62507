"""The policy listener's settings, read once from the configuration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicySettings:
    """How long a policy connection may sit idle or live, and how many requests it may carry (0: no limit)."""

    service: str = "policy"
    max_idle: float = 100.0
    max_ttl: float = 1000.0
    request_limit: int = 0

    @classmethod
    def from_config(cls, config) -> PolicySettings:
        return cls(max_idle=config.time("filterd_policy_max_idle"), max_ttl=config.time("filterd_policy_max_ttl"),
                   request_limit=config.int("filterd_policy_request_limit"))
