"""Partial keys (parent domains, address prefixes, `user@`, `@domain`) are asked of fixed-string tables only, as
Postfix's maps_find asks them; every key in turn of every table in order."""

from __future__ import annotations

from filterd import PartialKey, lookup_keys, open_table


def test_a_partial_key_is_not_asked_of_a_pattern_table():
    pcre = open_table("pcre:{ {/^example\\.com$/ REJECT anchored} }")
    regexp = open_table("regexp:{ {/^example\\.com$/ REJECT anchored} }")
    cidr = open_table("cidr:{ {192.0.2.0/24 REJECT network} }")
    assert not (pcre.fixed or regexp.fixed or cidr.fixed)
    assert lookup_keys([pcre], ["mail.example.com", PartialKey("example.com")]) is None
    assert lookup_keys([regexp], ["example.com"]) == "REJECT anchored"
    assert lookup_keys([cidr], ["192.0.2.7", PartialKey("192.0.2")]) == "REJECT network"
    assert lookup_keys([cidr], ["198.51.100.7", PartialKey("192.0.2.1")]) is None


def test_a_partial_key_is_asked_of_a_fixed_string_table():
    inline = open_table("inline:{ example.com=OK }")
    static = open_table("static:DUNNO")
    assert inline.fixed and static.fixed
    assert lookup_keys([inline], ["mail.example.com", PartialKey("example.com")]) == "OK"
    assert lookup_keys([static], [PartialKey("anything")]) == "DUNNO"


def test_each_key_is_asked_of_every_table_before_the_next_key():
    domains = open_table("inline:{ example.com=domain }")
    addresses = open_table("inline:{ user@example.com=address }")
    assert lookup_keys([domains, addresses], ["user@example.com", PartialKey("example.com")]) == "address"


def test_a_table_without_the_attribute_is_taken_for_a_fixed_string_one():
    class Plain:
        spec = "plugin:table"

        def lookup(self, key):
            return "found" if key == "example.com" else None

    assert lookup_keys([Plain()], ["a@example.com", PartialKey("example.com")]) == "found"


def test_a_file_table_says_what_its_kind_is(tmp_path):
    (tmp_path / "patterns").write_text("/x/ OK\n")
    (tmp_path / "strings").write_text("x OK\n")
    assert not open_table(f"pcre:{tmp_path / 'patterns'}").fixed
    assert open_table(f"texthash:{tmp_path / 'strings'}").fixed
