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
        assert ROUTER.destination(recipient) == Destination("local", "local.example")  # local: the domain


def test_relayhost_takes_what_is_not_local():
    router = Router(frozenset({"local.example"}), "[192.0.2.25]:25", rules=RULES)
    assert router.destination("user%foreign.example@local.example") == Destination("smtp", "[192.0.2.25]:25")


def test_transport_maps_are_searched_as_trivial_rewrite_searches_them():
    """user@domain first in every table, then (of fixed-string tables) the domain and its `.parent`s, then `*`;
    `:nexthop` keeps the transport and `transport:` sends to the recipient's domain."""
    from filterd import open_table
    from filterd.transport_maps import TransportMaps

    strings = open_table("inline:{ user@remote.example=relay:[192.0.2.1], remote.example=smtp:[192.0.2.2], "
                         ".parent.example=smtp:, local.example=:[192.0.2.3] }")
    patterns = open_table("pcre:{ {/^parent\\.example$/ smtp:[192.0.2.8]}, {/^a@parent\\.example$/ smtp:[192.0.2.9]} }")
    router = Router(frozenset({"local.example"}), "", TransportMaps((patterns, strings)), RULES)
    assert router.destination("user@remote.example") == Destination("relay", "[192.0.2.1]")
    assert router.destination("other@remote.example") == Destination("smtp", "[192.0.2.2]")
    assert router.destination("a@deep.parent.example") == Destination("smtp", "deep.parent.example")
    assert router.destination("a@parent.example") == Destination("smtp", "[192.0.2.9]")
    assert router.destination("b@parent.example") == Destination("smtp", "parent.example")
    assert router.destination("a@local.example") == Destination("local", "[192.0.2.3]")
    assert router.destination("a@elsewhere.example") == Destination("smtp", "elsewhere.example")
    wildcard = Router(frozenset(), "", TransportMaps((open_table("inline:{ *=smtp:[192.0.2.5] }"),)), RULES)
    assert wildcard.destination("a@anywhere.example") == Destination("smtp", "[192.0.2.5]")
    parent_style = Router(frozenset(), "", TransportMaps((open_table("inline:{ parent.example=smtp:[192.0.2.6] }"),),
                                                       parent_style=True), RULES)
    assert parent_style.destination("a@deep.parent.example") == Destination("smtp", "[192.0.2.6]")


def test_error_and_retry_without_a_next_hop_say_the_address_is_undeliverable():
    from filterd import open_table
    from filterd.transport_maps import TransportMaps

    maps = TransportMaps((open_table("inline:{ gone.example=error:, later.example=retry:, drop.example=discard: }"),))
    router = Router(frozenset(), "", maps, RULES)
    assert router.destination("a@gone.example") == Destination("error", "Address is undeliverable")
    assert router.destination("a@later.example") == Destination("retry", "Address is undeliverable")
    assert router.destination("a@drop.example") == Destination("discard", "drop.example")


def test_each_address_class_has_its_transport_as_trivial_rewrite_chooses_it():
    """local_transport for $mydestination (its own next hop first), relay_transport for $relay_domains and
    default_transport for the rest, relayhost as their next hop unless the setting names one; transport_maps over
    all."""
    from filterd import DomainList, open_table
    from filterd.transport_maps import TransportMaps

    transports = TransportMaps(local_transport="local:mx.local.example", default_transport="error:5.7.1 no relaying",
                               relay_domains=DomainList(("relay.example",)))
    router = Router(frozenset({"local.example"}), "[192.0.2.25]", transports, RULES)
    assert router.destination("a@local.example") == Destination("local", "mx.local.example")
    assert router.destination("a@sub.relay.example") == Destination("relay", "[192.0.2.25]")
    assert router.destination("a@elsewhere.example") == Destination("error", "5.7.1 no relaying")
    explicit = Router(frozenset(), "[192.0.2.25]", TransportMaps(default_transport="smtp:[192.0.2.26]:2525"), RULES)
    assert explicit.destination("a@elsewhere.example") == Destination("smtp", "[192.0.2.26]:2525")
    mapped = Router(frozenset(), "", TransportMaps((open_table("inline:{ elsewhere.example=smtp: }"),),
                                                   default_transport="discard:"), RULES)
    assert mapped.destination("a@elsewhere.example") == Destination("smtp", "elsewhere.example")
    assert mapped.destination("a@other.example") == Destination("discard", "other.example")


def test_sender_dependent_relayhost_maps_override_relayhost_by_sender_then_domain():
    """The sender's address, then its @domain, the null sender as `<>`; DUNNO keeps relayhost; an explicit
    transport next hop still comes first."""
    from filterd import open_table
    from filterd.transport_maps import TransportMaps

    senders = open_table("inline:{ a@example.org=[192.0.2.1], @example.org=[192.0.2.2], b@example.org=DUNNO, "
                         "<>=[192.0.2.3] }")
    router = Router(frozenset({"local.example"}), "[192.0.2.25]", TransportMaps(sender_relayhosts=(senders,)), RULES)
    route = {sender: router.destination("x@elsewhere.example", sender=sender).nexthop
             for sender in ("a@example.org", "c@example.org", "b@example.org", "", "d@other.example")}
    assert route == {"a@example.org": "[192.0.2.1]", "c@example.org": "[192.0.2.2]", "b@example.org": "[192.0.2.25]",
                     "": "[192.0.2.3]", "d@other.example": "[192.0.2.25]"}
    assert router.destination("x@local.example", sender="a@example.org") == Destination("local", "local.example")
    explicit = Router(frozenset(), "", TransportMaps(default_transport="smtp:[192.0.2.9]",
                                                     sender_relayhosts=(senders,)), RULES)
    assert explicit.destination("x@elsewhere.example", sender="a@example.org").nexthop == "[192.0.2.9]"


def test_sender_dependent_default_transport_maps_choose_the_default_class_s_transport():
    from filterd import DomainList, open_table
    from filterd.transport_maps import TransportMaps

    senders = open_table("inline:{ {a@example.org=error:5.7.1 Not from you}, @example.org=smtp:[192.0.2.4], "
                         "b@example.org=DUNNO }")
    router = Router(frozenset(), "[192.0.2.25]", TransportMaps(sender_transports=(senders,),
                                                              relay_domains=DomainList(("relay.example",))), RULES)
    assert router.destination("x@elsewhere.example", sender="a@example.org") == Destination("error",
                                                                                          "5.7.1 Not from you")
    assert router.destination("x@elsewhere.example", sender="c@example.org") == Destination("smtp", "[192.0.2.4]")
    assert router.destination("x@elsewhere.example", sender="b@example.org") == Destination("smtp", "[192.0.2.25]")
    assert router.destination("x@relay.example", sender="a@example.org") == Destination("relay", "[192.0.2.25]")


def test_an_address_left_in_a_virtual_alias_domain_goes_to_the_error_transport():
    """As trivial-rewrite resolves the virtual alias class (cleanup expanded the listed ones): error:User unknown,
    transport_maps not asked; a local domain listed there too stays local."""
    from filterd import DomainList, open_table
    from filterd.transport_maps import TransportMaps

    tables = (open_table("inline:{ virt.example=smtp:[192.0.2.1] }"),)
    maps = TransportMaps(tables, alias_domains=DomainList(("virt.example", "local.example"), exact=True))
    router = Router(frozenset({"local.example"}), "", maps, RULES)
    assert router.destination("nobody@virt.example") == Destination("error",
                                                                    "5.1.1 User unknown in virtual alias table")
    assert router.destination("nobody@sub.virt.example") == Destination("smtp", "sub.virt.example")
    assert router.destination("user@local.example") == Destination("local", "local.example")


def test_a_relocated_address_goes_to_the_error_transport_whatever_its_class():
    """relocated_maps, asked last by trivial-rewrite (after transport_maps), with the extension stripped."""
    from filterd import open_table
    from filterd.address_keys import Delimiters
    from filterd.transport_maps import TransportMaps

    maps = TransportMaps((open_table("inline:{ remote.example=smtp:[192.0.2.1] }"),),
                         relocated=(open_table("inline:{ old=new@else.example, @remote.example=gone }"),),
                         delimiters=Delimiters("+"))
    router = Router(frozenset({"local.example"}), "", maps, RULES)
    assert router.destination("old+x@local.example") == Destination("error", "5.1.6 User has moved to new@else.example")
    assert router.destination("a@remote.example") == Destination("error", "5.1.6 User has moved to gone")
    assert router.destination("old@other.example") == Destination("smtp", "other.example")
