"""cidr:, texthash:, inline: and static: tables, and re-reading a changed table file."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from filterd.tables import TableError, open_table, reloading
from filterd.tables.cidr import CidrTable
from filterd.tables.texthash import TexthashTable


def test_cidr_networks_negation_families_and_if():
    t = CidrTable("cidr:t", "t", b"if 127.0.0.0/8\n127.0.0.2 two\nendif\n!10.0.0.0/8 not-ten\n"
                                 b"2001:db8::/32 v6\n")
    assert [t.lookup(k) for k in ("127.0.0.2", "127.0.0.3", "10.1.1.1", "2001:db8::1", "::1", "junk")] == [
        "two", "not-ten", None, "v6", None, None]


def test_cidr_refuses_host_bits_with_postfix_hint():
    t = CidrTable("cidr:t", "t", b"192.168.1.1/24 x\n")
    assert t.notices[0].text == ('cidr map t, line 1: non-null host address bits in "192.168.1.1/24", '
                                 'perhaps you should use "192.168.1.0/24" instead: skipping this rule')


def test_texthash_folds_keys_keeps_first_duplicate_and_quoted_keys():
    t = TexthashTable("texthash:t", "t", b'Key1 one\nKEY1 dup\n"a b" quoted\nlonely\n')
    assert t.lookup("key1") == "one" and t.lookup('"A B"') == "quoted"
    assert [n.reason for n in t.notices] == ['duplicate entry: "KEY1"', "expected format: key whitespace value"]


def test_inline_and_static():
    t = open_table("inline:{ a=1, { B = text with spaces } }")
    assert (t.lookup("A"), t.lookup("b"), t.lookup("c")) == ("1", "text with spaces", None)
    assert open_table("static:{ any value }").lookup("x") == "any value"
    with pytest.raises(TableError, match="missing '=' after attribute name"):
        open_table("inline:{ a = 1 }")


def test_a_changed_file_is_reread_as_postfix_reads_it_and_an_unreadable_one_keeps_the_old_table(
        tmp_path: Path, monkeypatch, caplog):
    monkeypatch.setattr(reloading, "CHECK_INTERVAL", 0.0)
    path = tmp_path / "t"
    path.write_text("/x/ old\n")
    table = open_table(f"pcre:{path}")
    assert table.lookup("x") == "old"
    path.write_text("/x/ new, longer\n")
    assert table.lookup("x") == "new, longer"
    path.write_text("/x( broken\n/x/ after the broken rule\n")
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert table.lookup("x") == "after the broken rule"
    assert f'pcre map {path}, line 1: no closing regexp delimiter "/": ignoring this rule' in caplog.text
    path.unlink()
    path.mkdir()
    assert table.lookup("x") == "after the broken rule"
    assert f"table not reloaded, keeping the one in force: open {path}: Is a directory" in caplog.text


def test_the_file_is_checked_at_most_once_a_second(tmp_path: Path):
    path = tmp_path / "t"
    path.write_text("/x/ old\n")
    table = open_table(f"regexp:{path}")
    path.write_text("/x/ changed\n")
    assert table.lookup("x") == "old"
