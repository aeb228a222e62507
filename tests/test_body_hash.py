"""The streamed body hash equals dkimpy's over the whole body, whatever the chunks' boundaries and the lines'
lengths; memory does not grow with a line."""

from __future__ import annotations

import hashlib
import tracemalloc

import pytest
from dkim.canonicalization import Relaxed, Simple
from hypothesis import given
from hypothesis import strategies as st

from filterd.body_hash import BodyHash

PIECES = st.sampled_from([b"a", b"b c", b" ", b"\t", b"\r\n", b"\r\n\r\n", b"  \r\n", b"x \t y"])


def whole(body: bytes, relaxed: bool, limit: int | None = None) -> bytes:
    body = body if body.endswith(b"\r\n") or not body else body + b"\r\n"
    canonical = (Relaxed if relaxed else Simple).canonicalize_body(body)
    return hashlib.sha256(canonical[:limit]).digest()


@given(st.lists(PIECES, max_size=20), st.lists(st.integers(1, 7), min_size=1), st.booleans())
def test_any_chunking_hashes_as_dkimpy_hashes_the_whole_body(pieces, cuts, relaxed):
    body, hashed, start = b"".join(pieces), BodyHash(relaxed), 0
    for size in cuts * (len(body) + 1):
        hashed.update(body[start:start + size])
        start += size
    assert hashed.digest() == whole(body, relaxed)


def test_an_l_tag_limits_the_bytes_hashed():
    hashed = BodyHash(relaxed=True, limit=5)
    hashed.update(b"hello world\r\nmore\r\n")
    assert hashed.digest() == whole(b"hello world\r\nmore\r\n", True, 5)


def test_empty_bodies_hash_as_rfc_6376_says():
    assert BodyHash(relaxed=True).digest() == hashlib.sha256(b"").digest()
    assert BodyHash(relaxed=False).digest() == hashlib.sha256(b"\r\n").digest()


@given(st.lists(PIECES, max_size=20), st.lists(st.integers(1, 7), min_size=1), st.booleans(), st.integers(0, 6))
def test_lines_longer_than_hold_hash_as_dkimpy_hashes_them(pieces, cuts, relaxed, hold):
    """The start of a long unfinished line is hashed before its end comes, whatever the chunks and the line."""
    body, hashed, start = b"".join(pieces), BodyHash(relaxed, hold=hold), 0
    for size in cuts * (len(body) + 1):
        hashed.update(body[start:start + size])
        start += size
    assert hashed.digest() == whole(body, relaxed)


@pytest.mark.parametrize("relaxed", [True, False])
def test_memory_does_not_grow_with_a_line(relaxed):
    """A 32 MB body of one line, in 64 KB chunks: what is kept of the unfinished line stays under `hold`."""
    chunk, hashed = (b"x" * 1023 + b" ") * 64, BodyHash(relaxed)
    tracemalloc.start()
    try:
        for _ in range(512):
            hashed.update(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert hashed.digest() == whole(chunk * 512, relaxed)
    assert peak < 1_000_000
