"""Postfix's tok822 parse tree and cleanup's rewriting of address headers, with strings alone (the expected lines are
what a real Postfix 3.7 queued for the same headers: tests/integration/test_header_addresses_vs_postfix.py)."""

from __future__ import annotations

import pytest

from filterd.addresses import AddressRules
from filterd.content import Header
from filterd.header_rewrite import fold, rewrite_header, rewrite_headers
from filterd.tok822 import ADDR, addresses, externalize, internal_address, parse

RULES = AddressRules(("local.example",), "mx.local.example", "origin.example")


def rewritten(text: str) -> str | None:
    name, _, value = text.partition(": ")
    header = rewrite_header(Header.make(name, value), RULES, None, name.lower() == "from")
    return None if header is None else header.text


def test_the_parse_tree_clusters_addresses_and_moves_comments_aside():
    nodes = parse('"Smith, Bob" <bob> (comment), carol@remote.example, list: a, b@c;')
    assert [internal_address(node) for node in addresses(nodes)] == ["bob", "carol@remote.example", "a", "b@c"]
    assert [node.kind for node in nodes][:5] == ["qstring", "<", ADDR, ">", "comment"]
    assert externalize(nodes, one_per_line=False) == '"Smith, Bob" <bob>(comment), carol@remote.example, list: a, b@c;'


@pytest.mark.parametrize("header, expected", [
    ("From: Alice <alice>", "From: Alice <alice@origin.example>"),
    ("Sender: alice (the sender)", "Sender: alice@origin.example (the sender)"),
    ('Reply-To: "Smith, Bob" <bob> (comment), carol@remote.example',
     'Reply-To: "Smith, Bob" <bob@origin.example>(comment),\n\tcarol@remote.example'),
    ("Cc: list: a, b@remote.example;", "Cc: list: a@origin.example, b@remote.example;"),
    ('To: "quoted local"', 'To: "quoted local"@origin.example'),
    ("Errors-To: <@route.example:grace@remote.example>", "Errors-To: <grace@remote.example>"),
    ("Cc: undisclosed-recipients:;", None),
    ("Cc: already@qualified.example", None),
])
def test_headers_are_rewritten_as_postfix_rewrote_them(header, expected):
    assert rewritten(header) == expected


def test_a_long_list_is_folded_under_seventy_characters_a_line():
    header = "To: " + ", ".join(f"user{n}" for n in range(12))
    assert rewritten(header) == (
        "To: user0@origin.example, user1@origin.example, user2@origin.example,\n"
        "\tuser3@origin.example, user4@origin.example, user5@origin.example,\n"
        "\tuser6@origin.example, user7@origin.example, user8@origin.example,\n"
        "\tuser9@origin.example, user10@origin.example, user11@origin.example")
    assert fold("To: a,\nb") == "To: a, b"


def test_only_address_headers_are_rewritten_in_place():
    headers = [Header.make("X-Other", "frank"), Header.make("TO", "mixed"), Header.make("Subject", "bob")]
    rewrite_headers(headers, RULES, None)
    assert [h.text for h in headers] == ["X-Other: frank", "TO: mixed@origin.example", "Subject: bob"]
