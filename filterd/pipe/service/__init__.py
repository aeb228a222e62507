"""The pipe service: a resident filterd that `filterd pipe` hands each message to (filterd_listeners'
`pipe:` listeners), so that a simple filter costs a small client, not a Python that loads every plugin.

The public names, for filterd's assembly: serve_pipe (the listener on a bound socket) and PipeSettings."""

from filterd.pipe.service.listener import PipeSettings, serve_pipe

__all__ = ["PipeSettings", "serve_pipe"]
