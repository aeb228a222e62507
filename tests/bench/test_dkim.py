"""bench/dkim's two signing paths sign the same message, and its two ARC sealing paths seal it, and what each makes
verifies in dkimpy: the figures compare like with like."""

import asyncio

import dkim

from bench.dkim import ARC_AUTHSERV_ID, arc_settings, sample_message
from filterd import Message, Session
from filterd.plugins import arc as arc_plugin
from filterd.plugins import dkim as dkim_plugin
from filterd.testing import load_plugins
from tests.fixtures.dkim_keys import make_key, tables


def test_dkimpy_and_filterd_s_path_both_sign_the_sample_message_verifiably(tmp_path):
    key, message = make_key(tmp_path), sample_message()
    record = key.record.encode()
    by_dkimpy = dkim.sign(message, b"sel", b"example.org", key.path.read_bytes(), canonicalize=(b"relaxed", b"relaxed"))
    settings = load_plugins(dkim_plugin, settings=tables(tmp_path, key)).settings["filterd.plugins.dkim"]
    verdict = asyncio.run(dkim_plugin.end_of_message(Session(), Message.from_bytes(message), settings))
    [signature] = verdict.edits
    by_filterd = f"DKIM-Signature: {signature.value}\r\n".encode()
    for signed in (by_dkimpy, by_filterd):
        assert dkim.verify(signed + message, dnsfunc=lambda name, timeout=0: record)


def test_dkimpy_and_the_arc_plugin_both_seal_the_sample_message_verifiably(tmp_path):
    key, message = make_key(tmp_path), sample_message()
    record = key.record.encode()
    stamped = f"Authentication-Results: {ARC_AUTHSERV_ID}; arc=none\r\n".encode() + message
    by_dkimpy = b"".join(dkim.ARC(stamped).sign(b"sel", b"example.org", key.path.read_bytes(),
                                                 ARC_AUTHSERV_ID.encode()))
    settings = load_plugins(arc_plugin, settings=arc_settings(key)).settings["filterd.plugins.arc"]
    verdict = asyncio.run(arc_plugin.end_of_message(Message.from_bytes(message), (), settings))
    by_filterd = "".join(f"{edit.name}: {edit.value}\r\n" for edit in verdict.edits).encode()
    for sealed in (by_dkimpy, by_filterd):
        cv, _, reason = dkim.arc_verify(sealed + message, dnsfunc=lambda name, timeout=0: record)
        assert (cv, reason) == (b"pass", "success")
