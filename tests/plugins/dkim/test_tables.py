"""OpenDKIM's KeyTable and SigningTable: exact and refile: lookups, first match in file order, errors at FILE:LINE."""

from __future__ import annotations

import pytest

from filterd.plugins.dkim.tables import TableError, read_key_table, read_signing_table


def test_a_key_table_line_gives_domain_selector_and_key_file(tmp_path):
    path = tmp_path / "KeyTable"
    path.write_text("# comment\n\nmain  Example.ORG:2026:/etc/keys/main.pem  # trailing\n")
    entry = read_key_table(str(path))["main"]
    assert (entry.domain, entry.selector, entry.key_file, entry.where) == ("example.org", "2026", "/etc/keys/main.pem",
                                                                           f"{path}:3")


@pytest.mark.parametrize("line", ["main example.org:sel", "main", "main example.org::/k.pem", "a b c"])
def test_a_malformed_key_table_line_is_named(tmp_path, line):
    path = tmp_path / "KeyTable"
    path.write_text(f"ok example.org:s:/k.pem\n{line}\n")
    with pytest.raises(TableError, match=f"^{path}:2: expected KEYNAME DOMAIN:SELECTOR:KEYFILE$"):
        read_key_table(str(path))


def test_an_exact_table_tries_the_address_then_the_domain(tmp_path):
    path = tmp_path / "SigningTable"
    path.write_text("example.org main\nceo@example.org ceo\n")
    table = read_signing_table(str(path), {"main", "ceo"})
    assert [table.key_name(a) for a in ("CEO@example.org", "ann@example.org", "ann@sub.example.org")] == \
           ["main", "main", None]
    path.write_text("ceo@example.org ceo\nexample.org main\n")
    assert read_signing_table(f"file:{path}", {"main", "ceo"}).key_name("ceo@example.org") == "ceo"


def test_a_refile_table_takes_the_first_wildcard_that_matches(tmp_path):
    path = tmp_path / "SigningTable"
    path.write_text("*@*.example.org sub\n*@example.org main\n*.net net\n")
    table = read_signing_table(f"refile:{path}", {"sub", "main", "net"})
    assert [table.key_name(a) for a in ("a@lists.example.org", "a@example.org", "a@b.net", "a@example.org.uk")] == \
           ["sub", "main", "net", None]


def test_a_signing_table_naming_an_unknown_key_is_named(tmp_path):
    path = tmp_path / "SigningTable"
    path.write_text("example.org missing\n")
    with pytest.raises(TableError, match=f"^{path}:1: key missing is not in the KeyTable$"):
        read_signing_table(str(path), {"main"})
