"""Differential tests: `filterd postmap -q` against Debian's Postfix `postmap -q` on the same tables.

Every case is one table file and a batch of keys; Postfix's postmap runs once per table with
`-q -`, filterd's answer comes from the same code path in-process (and through the real command
for a few cases); standard output and exit status must be identical.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filterd.tables.postmap import postmap_query
from tests.harness import make_workdir
from tests.tables import strategies as gen
from tests.tables.bad_tables import BAD_FILES, BAD_SPECS
from tests.tables.corpus import CASES

AGE = 10  # seconds: Postfix's texthash waits for a file changed in the last seconds to settle
HYPOTHESIS = settings(max_examples=60, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def workdir() -> Path:
    """A private Postfix configuration directory, and room for the tables."""
    path = make_workdir("filterd-postmap-")
    (path / "main.cf").write_text("compatibility_level = 3.6\n")
    return path


class Differ:
    """Writes a table, asks both postmaps, compares."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.count = 0

    def postfix(self, spec: str, keys: bytes, key: str = "-") -> tuple[bytes, int]:
        done = subprocess.run(["postmap", "-c", str(self.workdir), "-q", key, spec], input=keys,
                              capture_output=True, timeout=30)
        return done.stdout, done.returncode

    def filterd(self, spec: str, keys: bytes, key: str = "-") -> tuple[bytes, int]:
        out = io.BytesIO()
        status = postmap_query(key, [spec], io.BytesIO(keys), out)
        return out.getvalue(), status

    def table(self, kind: str, text: str | bytes) -> str:
        self.count += 1
        path = self.workdir / f"table-{self.count}"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        os.utime(path, (time.time() - AGE, time.time() - AGE))
        return f"{kind}:{path}"

    def check(self, spec: str, keys: list[str] | bytes) -> None:
        data = keys if isinstance(keys, bytes) else "".join(k + "\n" for k in keys).encode()
        expected = self.postfix(spec, data)
        assert self.filterd(spec, data) == expected, (spec, data, expected)


@pytest.fixture(scope="module")
def differ(workdir: Path) -> Differ:
    return Differ(workdir)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hand_written(differ: Differ, case) -> None:
    spec = case.spec if case.text is None else differ.table(case.kind, case.text)
    differ.check(spec, case.keys)


@pytest.mark.parametrize("kind", ["regexp", "pcre"])
@settings(HYPOTHESIS, max_examples=150)
@given(data=st.data())
def test_generated_pattern_tables(differ: Differ, kind: str, data) -> None:
    text = data.draw(gen.pattern_tables(kind))
    differ.check(differ.table(kind, text), data.draw(gen.keys()))


@HYPOTHESIS
@given(text=gen.cidr_tables(), keys=gen.cidr_keys())
def test_generated_cidr_tables(differ: Differ, text: str, keys: list[str]) -> None:
    differ.check(differ.table("cidr", text), keys)


@settings(HYPOTHESIS, max_examples=25)
@given(text=gen.texthash_tables(), keys=gen.texthash_keys())
def test_generated_texthash_tables(differ: Differ, text: str, keys: list[str]) -> None:
    differ.check(differ.table("texthash", text), keys)


@pytest.mark.parametrize("key", ["Subject: cheap", "nothing", "-"])
def test_command_line_prints_and_exits_as_postfix(differ: Differ, key: str) -> None:
    spec = differ.table("pcre", "/^subject: (\\S+)/ REJECT $1\n/^x/ X\n")
    keys = b"Subject: Hi\nnone\nxy\n"
    done = subprocess.run([sys.executable, "-m", "filterd", "postmap", "-q", key, spec], input=keys,
                          capture_output=True, timeout=30)
    assert (done.stdout, done.returncode) == differ.postfix(spec, keys, key)


def test_missing_table_is_fatal_as_in_postfix(differ: Differ) -> None:
    missing = f"regexp:{differ.workdir}/no-such-table"
    assert differ.filterd(missing, b"x\n")[1] == differ.postfix(missing, b"x\n")[1] == 1


def postmap_command(argv: list[str], keys: bytes) -> tuple[bytes, bytes, int]:
    done = subprocess.run(argv, input=keys, capture_output=True, timeout=30)
    return done.stdout, done.stderr, done.returncode


def assert_same_as_postfix(differ: Differ, spec: str, keys: bytes, key: str = "-", *more: str) -> None:
    """stdout, stderr (each warning with its table and line) and exit status of both postmap commands."""
    postfix = postmap_command(["postmap", "-c", str(differ.workdir), "-q", key, spec, *more], keys)
    filterd = postmap_command([sys.executable, "-m", "filterd", "postmap", "-q", key, spec, *more], keys)
    assert filterd == postfix


@pytest.mark.parametrize("kind, text", BAD_FILES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(BAD_FILES)])
def test_each_rule_postfix_skips_is_skipped_with_postfix_warning(differ: Differ, kind: str, text: str) -> None:
    assert_same_as_postfix(differ, differ.table(kind, text), b"a\nSubject: amarkb\n10.1.2.3\nb\nx\n")


@pytest.mark.parametrize("spec", BAD_SPECS)
def test_tables_in_main_cf_warn_or_fail_as_in_postfix(differ: Differ, spec: str) -> None:
    assert_same_as_postfix(differ, spec, b"a\nb\n10.1.1.1\n")


@pytest.mark.parametrize("key, keys", [("a", b""), ("z", b""), ("-", b"a\n"), ("-", b"a\nz\n"), ("-", b"")])
def test_a_table_is_opened_only_when_a_key_reaches_it(differ: Differ, key: str, keys: bytes) -> None:
    assert_same_as_postfix(differ, "inline:{ a=1 }", keys, key, differ.table("regexp", "/a(/ x\n"), "nosuch:x")
