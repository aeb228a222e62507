"""Validating a chain from the header section and the streamed body: the same result and reason as dkimpy's ARC
verifier given the whole message, whatever was changed; only the newest ARC-Message-Signature's body hash counts;
the body hash is the one its c=, a= and l= ask for."""

from __future__ import annotations

import hashlib

import pytest
from dkim.canonicalization import CanonicalizationPolicy

from filterd import AuthResult, Message
from filterd.plugins import arc
from filterd import BodyHash
from filterd.plugins.arc.chain import ArcChain
from filterd.plugins.arc.sealing import arc_set
from filterd.testing import load_plugins
from tests.plugins.arc.chains import MESSAGE, dkimpy_validates, forwarded_by_the_list, results, sealing

CHANGES = {
    "nothing": lambda data: data,
    "the body": lambda data: data.replace(b"the agenda", b"the new agenda"),
    "blank lines after the body": lambda data: data + b"\r\n\r\n",
    "spaces within body lines": lambda data: data.replace(b"Hello list,", b"Hello  \t list,  "),
    "a signed header": lambda data: data.replace(b"Subject: agenda", b"Subject: agenda!"),
    "the sealed results": lambda data: data.replace(b"dkim=pass", b"dkim=fail"),
    "the seal": lambda data: data.replace(b"cv=none", b"cv=pass"),
    "a malformed seal on top": lambda data: b"ARC-Seal: i=2; garbage\r\n" + data,
}


@pytest.mark.parametrize("change", CHANGES)
def test_the_result_is_dkimpy_s_on_the_whole_message(tmp_path, keys, dns_server, change):
    dns_server.zone.add(keys["list"].name, keys["list"].txt())
    changed = CHANGES[change](forwarded_by_the_list(tmp_path, keys))
    cv, _, reason = dkimpy_validates(changed, keys["list"])
    expected = "arc=pass" if cv == b"pass" else f'arc={cv.decode()} reason="{reason}"'
    assert results(changed, dns_server)[0] == expected
    assert (cv == b"pass") == (change in ("nothing", "blank lines after the body", "spaces within body lines"))


def test_only_the_newest_message_signature_must_match_the_body(tmp_path, keys, dns_server):
    """A forwarder that validated the chain, then changed the body, seals over the new body: the first set's
    ARC-Message-Signature no longer matches it, and the chain still passes (RFC 8617 section 5.2)."""
    dns_server.zone.add(keys["list"].name, keys["list"].txt())
    dns_server.zone.add(keys["forwarder"].name, keys["forwarder"].txt())
    changed = Message.from_bytes(CHANGES["the body"](forwarded_by_the_list(tmp_path, keys)))
    body_hash = BodyHash(relaxed=True)
    for chunk in changed.body_chunks():
        body_hash.update(chunk)
    settings = load_plugins(arc, settings=sealing(tmp_path, keys)).settings["filterd.plugins.arc"]
    headers = arc_set(changed.header_bytes(), body_hash.digest(), (AuthResult("arc", "pass"),), settings)
    resealed = "".join(f"{name}: {value}\r\n" for name, value in headers).encode() + changed.as_bytes()
    assert dkimpy_validates(resealed, *keys.values())[::2] == (b"pass", "success")
    assert results(resealed, dns_server)[0] == "arc=pass"


def header_section(*signatures: str) -> bytes:
    return b"".join(f"ARC-Message-Signature: {value}\r\n".encode() for value in signatures) + MESSAGE


@pytest.mark.parametrize(("tags", "c", "hashed"), [
    ("a=rsa-sha256; ", b"relaxed/relaxed", lambda body: hashlib.sha256(body)),
    ("a=rsa-sha256; c=relaxed/simple; l=12; ", b"relaxed/simple", lambda body: hashlib.sha256(body[:12])),
    ("a=rsa-sha1; c=simple; ", b"simple/simple", lambda body: hashlib.sha1(body)),
])
def test_the_body_hash_is_the_one_the_newest_signature_asks_for(tags, c, hashed):
    older = "i=1; a=rsa-sha256; c=relaxed/relaxed; l=3; d=a.example; s=s; h=from; bh=; b="
    body_hash = ArcChain(header_section(f"i=2; {tags}d=a.example; s=s; h=from; bh=; b=", older)).body_hash
    body = b"Hello \t list,  \r\nthe agenda. \r\n\r\n"
    body_hash.update(body)
    assert body_hash.digest() == hashed(CanonicalizationPolicy.from_c_value(c).canonicalize_body(body)).digest()


@pytest.mark.parametrize("signatures", [
    ("i=1; c=relaxed/bogus; d=a.example; s=s; bh=; b=",),
    ("i=1; l=twelve; d=a.example; s=s; bh=; b=",),
    ("i=1; d=a.example; s=s; bh=; b=", "i=1; d=b.example; s=s; bh=; b="),
    (),
], ids=["bad c=", "bad l=", "two for the newest set", "none"])
def test_no_body_hash_without_one_well_formed_newest_signature(signatures):
    assert ArcChain(header_section(*signatures)).body_hash is None
