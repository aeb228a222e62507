"""canonical_maps, sender_canonical_maps and recipient_canonical_maps on the envelope, as Postfix's cleanup_map11
applies them: the first address of the answer, again until one maps to itself (ten times at most), an extension
given back, each table by its classes; and the addresses smtpd takes as listed."""

from __future__ import annotations

from filterd.canonical import CanonicalMaps
from filterd.config import Config
from filterd.parameters import CORE_PARAMETERS

BASE = {"mydestination": "local.example", "myorigin": "origin.example"}


def canonical(**settings: str) -> CanonicalMaps:
    entries = {**BASE, **settings}
    return CanonicalMaps.from_config(Config([(k, v, n) for n, (k, v) in enumerate(entries.items(), 1)],
                                            CORE_PARAMETERS))


def test_sender_and_recipient_tables_then_the_common_one():
    maps = canonical(sender_canonical_maps="inline:{ a@x.example=b@x.example }",
                     recipient_canonical_maps="inline:{ a@x.example=r@x.example }",
                     canonical_maps="inline:{ b@x.example=c@x.example, r@x.example=s@x.example }")
    assert maps.envelope_sender("a@x.example") == "c@x.example"
    assert maps.envelope_recipient("a@x.example") == "s@x.example"
    assert maps.envelope_sender("other@x.example") == "other@x.example"


def test_the_classes_say_which_addresses_a_table_rewrites():
    maps = canonical(canonical_maps="inline:{ a@x.example=b@x.example }", canonical_classes="envelope_recipient")
    assert maps.envelope_sender("a@x.example") == "a@x.example"
    assert maps.envelope_recipient("a@x.example") == "b@x.example"


def test_answers_are_followed_until_one_maps_to_itself_and_at_domain_keeps_the_user():
    maps = canonical(canonical_maps="inline:{ a@x.example=b@x.example, b@x.example=B@x.example, "
                                    "@old.example=@new.example, bare@x.example=bare }", recipient_delimiter="+")
    assert maps.envelope_recipient("a@x.example") == "B@x.example"
    assert maps.envelope_recipient("who+tag@old.example") == "who+tag@new.example"
    assert maps.envelope_recipient("bare@x.example") == "bare@origin.example"


def test_a_loop_stops_after_ten_lookups():
    maps = canonical(canonical_maps="inline:{ a@x.example=b@x.example, b@x.example=a@x.example }")
    assert maps.envelope_recipient("a@x.example", "QID") == "a@x.example"


def test_smtpd_takes_an_address_any_table_lists_as_valid():
    maps = canonical(sender_canonical_maps="inline:{ s@x.example=1 }", recipient_canonical_maps="inline:{ r=1 }",
                     canonical_maps="inline:{ @c.example=@d.example }")
    assert maps.listed("r@local.example") and maps.listed("any@c.example")
    assert not maps.listed("s@x.example") and maps.listed("s@x.example", sender=True)
    assert not maps.listed("r@remote.example")


def test_masquerading_gives_a_subdomain_s_address_the_first_listed_parent():
    maps = canonical(masquerade_domains="!keep.example.com, example.com, example.net", masquerade_exceptions="root",
                     masquerade_classes="envelope_sender, envelope_recipient")
    assert maps.envelope_sender("user@host.Example.com") == "user@example.com"
    assert maps.envelope_recipient("user@a.b.example.net") == "user@example.net"
    assert maps.envelope_sender("user@example.com") == "user@example.com"
    assert maps.envelope_sender("user@x.keep.example.com") == "user@x.keep.example.com"
    assert maps.envelope_sender("root@host.example.com") == "root@host.example.com"
    assert maps.envelope_sender("user@notexample.com") == "user@notexample.com"
    assert canonical(masquerade_domains="example.com").envelope_recipient("u@h.example.com") == "u@h.example.com"
