"""Postfix's domain lists (relay_domains, fast_flush_domains) as match_list and match_hostname read them."""

from filterd.config import Config
from filterd.domain_list import DomainList
from filterd.parameters import CORE_PARAMETERS


def listed(value: str, *domains: str, parent_style: bool = True) -> list[bool]:
    entries = [("relay_domains", value, 1),
               ("parent_domain_matches_subdomains", "relay_domains" if parent_style else "", 2)]
    config = Config(entries, CORE_PARAMETERS)
    found = DomainList.from_config(config, "relay_domains")
    return [found.matches(domain) for domain in domains]


def test_names_and_parent_style():
    assert listed("example.com", "example.com", "mail.example.com", "badexample.com") == [True, True, False]
    assert listed("example.com", "mail.example.com", parent_style=False) == [False]
    assert listed(".example.com", "mail.example.com", "example.com", parent_style=False) == [True, False]


def test_the_first_match_decides_and_an_exclusion_says_no():
    assert listed("!private.example.com, example.com", "private.example.com", "www.example.com") == [False, True]
    assert listed("example.com, !private.example.com", "private.example.com") == [True]


def test_tables_with_their_parents_and_braced_inline_tables_are_one_word():
    assert listed("other.example, inline:{ relay.example=yes }", "sub.relay.example", "other.example",
                  "elsewhere.example") == [True, True, False]
    assert listed("!inline:{ relay.example=yes }, .example", "relay.example", "x.example",
                  parent_style=False) == [False, True]


def test_a_string_list_matches_the_domain_itself_only():
    """virtual_alias_domains (match_string): no subdomain of a name or of a table's key, whatever the style."""
    config = Config([("virtual_alias_domains", "Virt.example, inline:{ table.example=x }, !no.example, .dot.example",
                      1)], CORE_PARAMETERS)
    found = DomainList.from_config(config, "virtual_alias_domains", exact=True)
    assert [found.matches(d) for d in ("virt.example", "VIRT.example", "a.virt.example", "table.example",
                                       "a.table.example", "no.example", "a.dot.example", ".dot.example")] == [
        True, True, False, True, False, False, False, True]
