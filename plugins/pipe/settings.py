"""The pipe plugin's parameters, read once per chain."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from filterd import Parameter, ParameterError, one_of, service_timeout

from . import argv

MODES = ("filter", "check")
FAILURE_ACTIONS = ("bounce", "defer")

PARAMETERS = [
    Parameter("filterd_pipe_command", "",
              doc="The command and its arguments with pipe(8)'s macros (${sender}, ${recipient}, ${queue_id}, "
                  "${client_address}, ...), split as a shell would but run without one; read unexpanded, as "
                  "master.cf's argv, so $name is a pipe(8) macro here and never a main.cf parameter."),
    Parameter("filterd_pipe_mode", "filter",
              doc="filter: what the command writes to stdout is the message from now on (spamc, altermime); "
                  "check: the message passes unchanged and only the exit status counts."),
    Parameter("filterd_pipe_time_limit", "20s", "time",
              doc="How long the command may run before it is killed and the message deferred; below plugin_timeout."),
    Parameter("filterd_pipe_process_limit", "20", "int",
              doc="How many commands run at once (master.cf's maxproc for a pipe transport); more messages wait."),
    Parameter("filterd_pipe_failure_action", "bounce",
              doc="What a hard failure (exit 69 or another status pipe(8) bounces) does: bounce or defer."),
]


@dataclass(frozen=True)
class Settings:
    words: list[str]
    mode: str
    time_limit: float
    failure_action: str
    process_limit: int = 20
    slots: asyncio.Semaphore = field(default=None, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        object.__setattr__(self, "slots", asyncio.Semaphore(self.process_limit))


def read(config) -> Settings:
    name = "filterd_pipe_command"
    try:
        words = argv.parse(config.raw(name))
    except ValueError as exc:
        raise ParameterError(name, str(exc)) from None
    return Settings(words, one_of("filterd_pipe_mode", config.get("filterd_pipe_mode"), MODES),
                    service_timeout(config, "filterd_pipe_time_limit"),
                    one_of("filterd_pipe_failure_action", config.get("filterd_pipe_failure_action"), FAILURE_ACTIONS),
                    max(1, config.int("filterd_pipe_process_limit")))
