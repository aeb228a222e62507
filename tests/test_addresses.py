"""filterd.addresses with strings alone: the forms Postfix 3.7's smtpd and trivial-rewrite were seen to give."""

from __future__ import annotations

import ipaddress

import pytest

from filterd.addresses import (LOCAL, REMOTE, AddressRules, Token, extract, find_addresses, quote_local, scan,
                               unquote_local, valid_hostname)

RULES = AddressRules(mydestination=("local.example",), myhostname="mx.local.example", myorigin="origin.example",
                     local_addresses=frozenset({ipaddress.ip_address("127.0.0.1")}))


def resolve(argument: str, rules: AddressRules = RULES):
    internal = extract(argument)
    assert internal
    return rules.resolve(rules.rewrite(internal))


@pytest.mark.parametrize("argument, recipient", [
    ("<user%foreign.example@local.example>", "user@foreign.example"),
    ("<foreign.example!user@local.example>", "user@foreign.example"),
    ('<"user@foreign.example"@local.example>', "user@foreign.example"),
    ('<"user%foreign.example"@local.example>', "user@foreign.example"),
    ('<"user\\@foreign.example"@local.example>', "user@foreign.example"),
    ("<user@foreign.example@local.example>", "user@foreign.example"),
    ("<user%foreign.example>", "user@foreign.example"),
    ("<@local.example:user@foreign.example>", "user@foreign.example"),
    ("<user>", "user@origin.example"),
    ("<user@[192.0.2.1]>", "user@[192.0.2.1]"),
])
def test_sender_routed_and_foreign_forms_resolve_remote(argument, recipient):
    resolution = resolve(argument)
    assert (resolution.recipient, resolution.address_class, resolution.error) == (recipient, REMOTE, False)


@pytest.mark.parametrize("argument, recipient", [
    ("<user@local.example>", "user@local.example"),
    ("<User@LOCAL.EXAMPLE>", "User@LOCAL.EXAMPLE"),
    ("<user@local.example.>", "user@local.example"),
    ("<user%local.example@local.example>", "user@local.example"),
    ("<@route.example:user@local.example>", "user@local.example"),
    ("<@local.example>", "MAILER-DAEMON@local.example"),
    ('<""@local.example>', "MAILER-DAEMON@local.example"),
    ('<"user name"@local.example>', "user name@local.example"),
    ("<user@[127.0.0.1]>", "user@[127.0.0.1]"),
])
def test_local_forms(argument, recipient):
    resolution = resolve(argument)
    assert (resolution.recipient, resolution.address_class, resolution.routed) == (recipient, LOCAL, False)


def test_an_unqualified_address_gets_myhostname_when_myorigin_is_empty():
    rules = AddressRules(mydestination=("local.example",), myhostname="local.example", myorigin="")
    assert rules.resolve(rules.rewrite("user")).recipient == "user@local.example"


@pytest.mark.parametrize("argument", ["<user@>", "<user@@local.example>", "<user@local..example>",
                                      "<user@.local.example>", "<user@local.example..>", "<user@[300.1.1.1]>",
                                      "<user@1.2.3.4>", "<user@-bad.example>"])
def test_bad_domains_are_errors(argument):
    assert resolve(argument).error


def test_a_bang_path_left_after_resolving_is_routed():
    resolution = resolve("<a!b!c@local.example>")
    assert (resolution.recipient, resolution.routed) == ("b!c@a", True)


def test_the_routing_parameters_turn_each_hack_off():
    plain = AddressRules(mydestination=("local.example",), allow_percent_hack=False, swap_bangpath=False,
                         resolve_dequoted_address=False)
    assert plain.resolve("user%foreign.example@local.example").address_class == LOCAL
    assert plain.resolve("foreign.example!user@local.example").address_class == LOCAL
    for address in ("user%foreign.example@local.example", "user@foreign.example@local.example"):
        resolution = plain.resolve(address)
        assert (resolution.recipient, resolution.address_class, resolution.routed) == (address, LOCAL, True)


def test_resolve_null_domain_strips_a_trailing_at():
    rules = AddressRules(mydestination=("local.example",), myhostname="local.example", resolve_null_domain=True)
    assert rules.resolve("user@").recipient == "user@local.example"


@pytest.mark.parametrize("argument", ["<user name@local.example>", "<user@local.example>x", "a b"])
def test_two_addresses_in_one_argument_are_malformed(argument):
    assert extract(argument) is None


@pytest.mark.parametrize("argument, internal", [
    ("<>", ""), ('<"">', ""), ("user@local.example", "user@local.example"),
    ("<<user@local.example>>", "user@local.example"), ("<user@local.example (comment)>", "user@local.example"),
    ('<"Some One" <one@local.example>>', "one@local.example"),
])
def test_extract(argument, internal):
    assert extract(argument) == internal


@pytest.mark.parametrize("internal, external", [
    ("user@local.example", "user@local.example"),
    ("user name@local.example", '"user name"@local.example'),
    ("user@foreign.example@local.example", '"user@foreign.example"@local.example'),
    ('a"b\\c@local.example', '"a\\"b\\\\c"@local.example'),
    (".user@local.example", '".user"@local.example'),
    ("@route.example:user@local.example", "@route.example:user@local.example"),
    ("üser@local.example", "üser@local.example"),
])
def test_quoting_round_trips(internal, external):
    assert quote_local(internal) == external
    assert unquote_local(external) == internal


def test_scan_keeps_routing_operators_and_quoted_words_apart():
    assert scan('"a b"%c!d@[1.2.3.4]') == [Token("qstring", "a b"), Token("%"), Token("atom", "c"), Token("!"),
                                          Token("atom", "d"), Token("@"), Token("domlit", "1.2.3.4")]


def test_phrases_and_comments_are_no_address():
    groups = find_addresses(scan("Some One (x) <one@local.example>"))
    assert groups == [[Token("atom", "one"), Token("@"), Token("atom", "local"), Token("."),
                       Token("atom", "example")]]


@pytest.mark.parametrize("name, valid", [("local.example", True), ("a_b.example", True), ("x" * 64, False),
                                         ("1.2.3.4", False), ("a-.example", False), ("", False)])
def test_valid_hostname(name, valid):
    assert valid_hostname(name) is valid
