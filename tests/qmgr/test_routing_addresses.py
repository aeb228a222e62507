"""The queue manager's routing of each recipient as trivial-rewrite resolves it, with strings alone."""

from __future__ import annotations

from filterd.addresses import AddressRules
from filterd.qmgr.routing import Destination, Router

RULES = AddressRules(("local.example",), "mx.local.example", "local.example")
ROUTER = Router(frozenset({"local.example"}), rules=RULES)


def test_a_routed_local_address_goes_where_its_route_says():
    for recipient in ("user%foreign.example@local.example", "foreign.example!user@local.example",
                      '"user@foreign.example"@local.example'):
        assert ROUTER.destination(recipient) == Destination("smtp", "foreign.example")
        assert ROUTER.resolve(recipient).recipient == "user@foreign.example"


def test_local_forms_stay_local():
    for recipient in ("user@local.example", "user@LOCAL.EXAMPLE.", "postmaster", "user%local.example@local.example"):
        assert ROUTER.destination(recipient) == Destination("local", "")


def test_relayhost_takes_what_is_not_local():
    router = Router(frozenset({"local.example"}), "[192.0.2.25]:25", rules=RULES)
    assert router.destination("user%foreign.example@local.example") == Destination("smtp", "[192.0.2.25]:25")
