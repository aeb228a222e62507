"""`filterd postmap -q`'s output and exit status, from strings alone."""

from __future__ import annotations

import io

from filterd.tables.postmap import postmap_query


def run(key: str, specs: list[str], keys: bytes = b"") -> tuple[bytes, int]:
    out = io.BytesIO()
    status = postmap_query(key, specs, io.BytesIO(keys), out)
    return out.getvalue(), status


def test_single_key_prints_the_value_only():
    assert run("b", ["inline:{ a=1, b=2 }"]) == (b"2\n", 0)
    assert run("z", ["inline:{ a=1 }"]) == (b"", 1)


def test_stdin_keys_print_key_tab_value_for_those_found_and_the_first_table_wins():
    assert run("-", ["inline:{ a=1 }", "static:other"], b"a\nb\n") == (b"a\t1\nb\tother\n", 0)
    assert run("-", ["inline:{ a=1 }"], b"x\ny\n") == (b"", 1)


def test_a_table_that_cannot_be_opened_is_fatal():
    assert run("a", ["nosuch:thing"]) == (b"", 1)
