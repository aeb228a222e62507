"""An SMTP content filter after the queue (amavisd's way): the message is sent by SMTP to the filter, which
reinjects it into a reinject listener; it leaves filterd's queue only once the filter said 250, 4xx defers, 5xx
bounces. The plugin only chooses the filter (FILTER transport:nexthop); the queue manager delivers, with XFORWARD.
"""

from __future__ import annotations

from filterd import Parameter, ParameterError, Verdict, hookimpl

PARAMETERS = [
    Parameter("filterd_smtp_filter", "",
              doc="The filter as transport:nexthop (scan:[127.0.0.1]:10024); the transport is smtp or one of "
                  "filterd_filters, which also get XFORWARD."),
]


@hookimpl
def parameters():
    return PARAMETERS


@hookimpl
def configure(config) -> str:
    nexthop = config.get("filterd_smtp_filter")
    transport, colon, host = nexthop.partition(":")
    if not (transport and colon and host):
        raise ParameterError("filterd_smtp_filter", f'bad value "{nexthop}": expected transport:nexthop')
    return nexthop


@hookimpl
def queue(envelope, settings: str):
    return Verdict.filter(settings)
