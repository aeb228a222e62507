"""mail_addr_find's search keys with recipient_delimiter, and split_addr's rules for what has an extension."""

from __future__ import annotations

from filterd import open_table
from filterd.address_keys import Delimiters, address_keys, find_address
from filterd.tables import PartialKey


def keys(address: str, local: bool, delimiters: str = "") -> list[tuple[str, bool, bool]]:
    """(key, fixed-string tables only, extension stripped)."""
    return [(str(k.key), type(k.key) is PartialKey, k.stripped)
            for k in address_keys(address, local, Delimiters(delimiters))]


def test_without_a_delimiter_the_address_its_local_part_when_local_and_the_domain():
    assert keys("a b@Local.example", True) == [('"a b"@local.example', False, False),
                                               ("a b@local.example", False, False), ('"a b"', True, False),
                                               ("a b", True, False), ("@local.example", True, False)]
    assert keys("user@remote.example", False) == [("user@remote.example", False, False),
                                                  ("@remote.example", True, False)]


def test_with_a_delimiter_the_bare_forms_follow_each_full_one():
    assert keys("user+foo@local.example", True, "+") == [
        ("user+foo@local.example", False, False), ("user@local.example", True, True), ("user+foo", True, False),
        ("user", True, True), ("@local.example", True, False)]
    assert keys("user-foo+bar@r.example", False, "+-") == [
        ("user-foo+bar@r.example", False, False), ("user@r.example", True, True), ("@r.example", True, False)]


def test_what_split_addr_never_splits():
    plain = Delimiters("+-")
    for local_part in ("postmaster", "MAILER-DAEMON", "double-bounce", "owner-list", "list-request", "+foo",
                       "user"):
        assert plain.split(local_part) is None, local_part
    assert Delimiters("-", owner_request_special=False).split("owner-list") == ("owner", "-list")
    assert Delimiters("+").split("owner+x") == ("owner", "+x")
    assert plain.split("user+") == ("user", "+")


def test_find_says_which_extension_a_stripped_key_left_over():
    table = open_table("inline:{ user@r.example=found, exact+x@r.example=exact }")
    plus = Delimiters("+")
    assert find_address([table], "user+tag@r.example", False, plus) == ("found", "+tag")
    assert find_address([table], "exact+x@r.example", False, plus) == ("exact", "")
    assert find_address([table], "user+tag@r.example", False) is None
    pattern = open_table("pcre:{ {/^user@/ regexp} }")
    assert find_address([pattern], "user+tag@r.example", False, plus) is None
