"""The DNS lists' reply filter: Postfix's IPv4 address patterns."""

from __future__ import annotations

import pytest

from filterd.policies.restrictions.reply_filter import AddressPattern


@pytest.mark.parametrize(("pattern", "address", "matches"), [
    ("127.0.0.2", "127.0.0.2", True), ("127.0.0.2", "127.0.0.3", False),
    ("127.0.0.[2..4]", "127.0.0.4", True), ("127.0.0.[2..4]", "127.0.0.5", False),
    ("127.0.[0..9].[2;3;10..11]", "127.0.9.11", True), ("127.0.[0..9].[2;3;10..11]", "127.0.9.4", False),
    ("127.0.0.2", "::1", False),
])
def test_patterns_match_as_postfix_s(pattern, address, matches):
    assert AddressPattern.parse(pattern).matches(address) is matches


@pytest.mark.parametrize("pattern", ["127.0.0", "127.0.0.256", "127.0.0.[4..2]", "127.0.0.x", "127.0.0.[]"])
def test_a_bad_pattern_stops_filterd(pattern):
    with pytest.raises(ValueError, match="RBL reply error"):
        AddressPattern.parse(pattern)
