"""The arc plugin with another implementation: a chain sealed by Mail::DKIM (Perl) validates in filterd, a changed
one fails; what filterd seals, first in a chain or after Mail::DKIM's set, validates in dkimpy's verifier."""

from __future__ import annotations

import asyncio
import base64
import tracemalloc

import pytest

from filterd import ConfigError, Message
from filterd.plugins import arc
from filterd.plugins import dkim as dkim_plugin
from filterd.edits import apply
from filterd.testing import load_plugins, run_plugin
from tests.fixtures.dkim_keys import make_key, tables
from tests.plugins.arc.chains import MESSAGE, dkimpy_validates, forwarded_by_the_list, results, sealing

LARGE = 30 * 2**20
LINE = base64.b64encode(bytes(range(57))) + b"\r\n"
"""A line of a base64 attachment, the bulk of a large message."""


def test_a_chain_sealed_by_mail_dkim_validates_in_filterd(tmp_path, keys, dns_server):
    dns_server.zone.add(keys["list"].name, keys["list"].txt())
    assert results(forwarded_by_the_list(tmp_path, keys), dns_server)[0] == "arc=pass"


def test_a_changed_message_breaks_the_chain(tmp_path, keys, dns_server):
    dns_server.zone.add(keys["list"].name, keys["list"].txt())
    changed = forwarded_by_the_list(tmp_path, keys).replace(b"the agenda", b"the new agenda")
    assert results(changed, dns_server)[0].startswith("arc=fail")


def test_a_message_without_a_chain_is_arc_none(dns_server):
    assert results(MESSAGE, dns_server)[0] == "arc=none"


def test_what_filterd_seals_first_validates_in_dkimpy(tmp_path, keys, dns_server):
    outcome = results(MESSAGE, dns_server, **sealing(tmp_path, keys))[1]
    assert outcome.header("ARC-Seal").startswith("i=1; cv=none; a=rsa-sha256; d=fwd.example.com; s=seal;")
    assert outcome.header("ARC-Authentication-Results") == "i=1; mx.fwd.example.com; arc=none"
    cv, sets, reason = dkimpy_validates(outcome.message.as_bytes(), keys["forwarder"])
    assert (cv, reason) == (b"pass", "success") and sets[0]["as-valid"] and sets[0]["ams-valid"]


def test_what_filterd_seals_after_mail_dkim_s_set_validates_in_dkimpy(tmp_path, keys, dns_server):
    dns_server.zone.add(keys["list"].name, keys["list"].txt())
    outcome = results(forwarded_by_the_list(tmp_path, keys), dns_server, **sealing(tmp_path, keys))[1]
    assert outcome.header("ARC-Seal").startswith("i=2; cv=pass; a=rsa-sha256; d=fwd.example.com;")
    cv, sets, reason = dkimpy_validates(outcome.message.as_bytes(), keys["forwarder"], keys["list"])
    assert (cv, reason, len(sets)) == (b"pass", "success", 2)


def test_a_seal_without_a_key_file_is_refused(tmp_path, keys):
    settings = {**sealing(tmp_path, keys), "filterd_arc_key_file": str(tmp_path / "missing.pem")}
    with pytest.raises(ConfigError, match="filterd_arc_key_file: .*missing.pem: No such file or directory"):
        run_plugin(arc, message=MESSAGE, settings=settings)


def test_the_seal_carries_the_dkim_results_reported_before_it(tmp_path, keys, dns_server):
    author = make_key(tmp_path)
    dns_server.zone.add(author.name, author.txt())
    signed = run_plugin(dkim_plugin, message=MESSAGE, settings=tables(tmp_path, author)).message.as_bytes()
    outcome = run_plugin(dkim_plugin, arc, message=signed, client_address="192.0.2.25",
                         settings={"filterd_dns_servers": dns_server.address, **sealing(tmp_path, keys)})
    aar = outcome.header("ARC-Authentication-Results")
    assert aar.startswith("i=1; mx.fwd.example.com; dkim=pass header.d=example.org header.s=sel") and "arc=none" in aar


def large_message(spool) -> Message:
    """MESSAGE with LARGE bytes more of body, spooled to the file `spool` as the front ends spool a message."""
    block = LINE * 1024

    def chunks():
        yield MESSAGE
        for _ in range(LARGE // len(block)):
            yield block

    return Message.from_chunks(chunks(), spool)


def traced(hook) -> tuple[object, int]:
    """What the coroutine `hook` returns, and the most memory Python held while it ran."""
    tracemalloc.start()
    try:
        verdict = asyncio.run(hook)
        return verdict, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_30_mb_message_is_sealed_and_validated_in_little_memory(tmp_path, keys, dns_server):
    """Sealed first, then validated and sealed again, the body read from the spool in chunks and never joined."""
    dns_server.zone.add(keys["forwarder"].name, keys["forwarder"].txt())
    settings = load_plugins(arc, settings={"filterd_dns_servers": dns_server.address, **sealing(tmp_path, keys)}
                            ).settings["filterd.plugins.arc"]
    with open(tmp_path / "spool", "w+b") as spool:
        message = large_message(spool)
        first, first_peak = traced(arc.end_of_message(message, (), settings))
        sealed = apply(message, list(first.edits))
        second, second_peak = traced(arc.end_of_message(sealed, (), settings))
        resealed = apply(sealed, list(second.edits)).as_bytes()
    assert [(r.method, r.result) for r in (*first.auth_results, *second.auth_results)] == [("arc", "none"),
                                                                                           ("arc", "pass")]
    assert max(first_peak, second_peak) < LARGE // 30
    assert dkimpy_validates(resealed, keys["forwarder"])[::2] == (b"pass", "success")
