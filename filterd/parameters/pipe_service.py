"""The pipe service: where `filterd pipe` hands its message to a resident filterd, and how long that filterd
waits for a silent client."""

from __future__ import annotations

from filterd.config import entry as _p
from filterd.config import Parameter


PIPE_SERVICE_PARAMETERS: dict[str, Parameter] = dict([
    _p("filterd_pipe_service", "", "str",
       "Where `filterd pipe` hands each message to a resident filterd (a pipe: listener): unix:/PATH or "
       "inet:HOST:PORT; empty: `filterd pipe` loads the plugins and filters the message itself."),
    _p("filterd_pipe_service_timeout", "300s", "time",
       "How long a pipe: listener waits for the next bytes of a client's request before it gives up."),
])
