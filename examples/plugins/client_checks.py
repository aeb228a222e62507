"""Example plugin: refuse clients whose address has no name, and HELO names that are not fully qualified, as
Postfix's reject_unknown_client_hostname and reject_non_fqdn_helo_hostname do.

    filterd_plugins = client_checks
"""

from filterd import Verdict, hookimpl


@hookimpl
def changes():
    """It only refuses: no change to declare."""
    return set()


@hookimpl
def connect(session):
    """DEFER refuses every mail transaction of the session, reported at MAIL FROM: the client may try later."""
    if session.client_name == "unknown":
        return Verdict.defer(f"4.7.25 Client host rejected: cannot find your hostname, [{session.client_address}]")
    return None


@hookimpl
def helo(hostname):
    """REJECT answers this HELO or EHLO; an address literal such as [192.0.2.1] passes."""
    if "." not in hostname and not hostname.startswith("["):
        return Verdict.reject(f"5.5.2 <{hostname}>: Helo command rejected: need fully-qualified hostname", 504)
    return None
