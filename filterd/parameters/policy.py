"""Policy delegation's parameters: Postfix's smtpd_policy_service_* for filterd as a policy client
(check_policy_service), with Postfix's defaults, and filterd's own for its policy listener, whose defaults are
those of Postfix's daemons (max_idle) and of its policy client (max_ttl, request_limit)."""

from __future__ import annotations

from filterd.config import entry as _p
from filterd.config import Parameter


POLICY_PARAMETERS: dict[str, Parameter] = dict([
    _p("smtpd_policy_service_timeout", "100s", "time",
       "The time limit to connect to, send to or receive from a policy server."),
    _p("smtpd_policy_service_max_idle", "300s", "time",
       "The time after which an unused policy client connection is closed."),
    _p("smtpd_policy_service_max_ttl", "1000s", "time",
       "The time after which an active policy client connection is closed."),
    _p("smtpd_policy_service_request_limit", "0", "int",
       "The maximal number of requests per policy connection, or zero (no limit)."),
    _p("smtpd_policy_service_try_limit", "2", "int",
       "The maximal number of attempts to send a policy service request before giving up."),
    _p("smtpd_policy_service_retry_delay", "1s", "time",
       "The delay between attempts to resend a failed policy service request."),
    _p("smtpd_policy_service_default_action", "451 4.3.5 Server configuration problem", "str",
       "The default action when a policy service request fails."),
    _p("smtpd_policy_service_policy_context", "", "str",
       'Optional information that is passed in the "policy_context" attribute of a policy service request.'),
    _p("filterd_policy_max_idle", "100s", "time",
       "How long a policy listener keeps a connection that sends no request, as Postfix's max_idle."),
    _p("filterd_policy_max_ttl", "1000s", "time",
       "How long a policy listener keeps a connection, closed once its last request is answered."),
    _p("filterd_policy_request_limit", "0", "int",
       "How many requests a policy listener answers on one connection before closing it (0: no limit)."),
])


def check_policy_values(config) -> None:
    """Values the generic kinds let through that Postfix refuses too: a try limit or a time below 1."""
    for name in AT_LEAST_ONE:
        value = config.int(name) if name.endswith("_limit") else config.time(name)
        if value < 1:
            raise config.error(name, f'bad value "{config.get(name)}": expected at least 1')


AT_LEAST_ONE = ("smtpd_policy_service_try_limit", "smtpd_policy_service_timeout", "smtpd_policy_service_max_idle",
                "smtpd_policy_service_max_ttl", "smtpd_policy_service_retry_delay")
"""Postfix's minimum of 1 for these ("invalid smtpd_policy_service_retry_delay: 0 (min 1)")."""
