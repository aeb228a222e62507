"""virtual_alias_maps as Postfix's cleanup applies them (cleanup_map1n_internal, mail_addr_map): the search keys,
@domain results, canonical results, recursion with an address that maps to itself kept, and the three limits."""

from __future__ import annotations

import pytest

from filterd.config import Config
from filterd.parameters import CORE_PARAMETERS
from filterd.virtual_alias import ExpansionError, VirtualAliases

BASE = {"mydestination": "local.example", "myorigin": "origin.example"}


def aliases(table: str, **settings: str) -> VirtualAliases:
    entries = {**BASE, "virtual_alias_maps": table, **settings}
    return VirtualAliases.from_config(Config([(k, v, n) for n, (k, v) in enumerate(entries.items(), 1)],
                                             CORE_PARAMETERS))


def test_lookups_by_address_local_part_and_domain():
    found = aliases("inline:{ user@virt.example=one@remote.example, local=two@remote.example, "
                    "@catch.example=three@remote.example }")
    assert found.mapped("user@virt.example") == ["one@remote.example"]
    assert found.mapped("local@local.example") == ["two@remote.example"]
    assert found.mapped("local@virt.example") is None
    assert found.mapped("anyone@catch.example") == ["three@remote.example"]
    assert found.lookup("") is None


def test_results_are_lists_made_canonical_and_an_at_domain_result_keeps_the_user():
    found = aliases("inline:{ { list@virt.example = a@remote.example, bare, \"x y\"@remote.example } , "
                    "@old.example=@new.example }")
    assert found.mapped("list@virt.example") == ["a@remote.example", "bare@origin.example", "x y@remote.example"]
    assert found.mapped("someone@old.example") == ["someone@new.example"]


def test_expansion_recurses_and_keeps_an_address_that_maps_to_itself():
    found = aliases("inline:{ { list@v.example = nested@v.example, self@v.example }, nested@v.example=c@r.example, "
                    "{ self@v.example = Self@v.example, other@r.example } }")
    assert found.expand("list@v.example") == ["c@r.example", "Self@v.example", "other@r.example"]
    assert found.expand("unlisted@v.example") == ["unlisted@v.example"]


def test_limits_end_the_expansion_with_cleanup_s_warning():
    wide = aliases("inline:{ { list@v.example = a@r.example, b@r.example, c@r.example } }",
                   virtual_alias_expansion_limit="2")
    with pytest.raises(ExpansionError, match=r"^QID: unreasonable virtual_alias_maps map expansion size for "
                                             r"list@v.example -- message not accepted, try again later$"):
        wide.expand("list@v.example", "QID")
    deep = aliases("inline:{ a@v.example=b@v.example, b@v.example=c@v.example, c@v.example=d@v.example }",
                   virtual_alias_recursion_limit="2")
    with pytest.raises(ExpansionError, match="unreasonable virtual_alias_maps map nesting for a@v.example"):
        deep.expand("a@v.example", "QID")
    assert deep.expand("c@v.example") == ["d@v.example"]
    long = aliases("inline:{ a@v.example=" + "x" * 40 + "@r.example }", virtual_alias_address_length_limit="20")
    with pytest.raises(ExpansionError, match=r"unreasonable virtual_alias_maps result x{40}@r.example\.\.\. --"):
        long.expand("a@v.example", "QID")


def test_a_loop_ends_at_the_recursion_limit():
    with pytest.raises(ExpansionError, match="map nesting"):
        aliases("inline:{ a@v.example=b@v.example, b@v.example=a@v.example }").expand("a@v.example")


def test_an_extension_stripped_to_find_the_alias_is_given_back_to_each_address():
    """recipient_delimiter with propagate_unmatched_extensions' `virtual`; user+foo@domain itself is asked first."""
    table = ("inline:{ { list@v.example = a@r.example, b }, exact+x@v.example=exact@r.example, "
             "@catch.example=@r.example }")
    found = aliases(table, recipient_delimiter="+-")
    assert found.mapped("list+tag@v.example") == ["a+tag@r.example", "b+tag@origin.example"]
    assert found.mapped("list-tag@v.example") == ["a-tag@r.example", "b-tag@origin.example"]
    assert found.mapped("exact+x@v.example") == ["exact@r.example"]
    assert found.mapped("who+tag@catch.example") == ["who+tag@r.example"]
    assert aliases(table, recipient_delimiter="+", propagate_unmatched_extensions="canonical").mapped(
        "list+tag@v.example") == ["a@r.example", "b@origin.example"]
    assert aliases(table).mapped("list+tag@v.example") is None
