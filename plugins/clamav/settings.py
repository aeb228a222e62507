"""The clamav plugin's parameters, read once per chain."""

from __future__ import annotations

from dataclasses import dataclass

from filterd import Endpoint, Parameter, one_of, parse_endpoint, service_timeout

HOOKS = ("end_of_message", "queue")
"""end_of_message: before the queue, so that a refusal reaches the client; queue: after it, in relay mode."""
DEFAULT_ACTIONS = ("accept", "tempfail", "reject", "quarantine")

PARAMETERS = [
    Parameter("filterd_clamav_clamd", "unix:/run/clamav/clamd.ctl",
              doc="Where clamd listens: inet:HOST:PORT or unix:/PATH (Debian's LocalSocket by default)."),
    Parameter("filterd_clamav_timeout", "20s", "time",
              doc="How long to wait for clamd's answer; below plugin_timeout, which would decide first."),
    Parameter("filterd_clamav_size_limit", "26214400", "size",
              doc="Larger messages are not scanned (clamd's StreamMaxLength)."),
    Parameter("filterd_clamav_hook", "end_of_message",
              doc="When to scan: end_of_message (before the queue: reject) or queue (after it: hold)."),
    Parameter("filterd_clamav_default_action", "tempfail",
              doc="When clamd is down, slow or answers an error: accept (and log a warning), tempfail, reject or "
                  "quarantine."),
]


@dataclass(frozen=True)
class Settings:
    clamd: Endpoint
    timeout: float
    size_limit: int
    hook: str
    default_action: str


def read(config) -> Settings:
    name = "filterd_clamav_"
    return Settings(parse_endpoint(name + "clamd", config.get(name + "clamd")), service_timeout(config, name + "timeout"),
                    config.size(name + "size_limit"), one_of(name + "hook", config.get(name + "hook"), HOOKS),
                    one_of(name + "default_action", config.get(name + "default_action"), DEFAULT_ACTIONS))
