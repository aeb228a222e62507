"""The queue file reader fuzzed (hypothesis): whatever is on disk, reading it gives a queue file whose envelope
has every field of its declared type and whose content streams whole, or CorruptQueueFile (the queue manager
moves it to the corrupt queue); nothing else may come out."""

from __future__ import annotations

import io
import json
from dataclasses import fields

from hypothesis import given, strategies as st

from filterd.queue import queuefile
from filterd.queue.queuefile import CorruptQueueFile, QueueEnvelope, QueueFile, Recipient
from tests.fixtures.fuzzing import budget

CONTENT = b"Subject: hi\r\n\r\nbody\r\n"
ENVELOPE = QueueEnvelope("4ABCDEFGHIzJ", "alice@example.org", [Recipient("bob@example.net", orcpt="rfc822;b@x")],
                         arrival=1_700_000_000.0, size=len(CONTENT), bcc=["c@example.net"])
JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
                    | st.text(max_size=6),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=6)
TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool, "list[str]": list, "list[Recipient]": list}


def stored(envelope_json: bytes, content: bytes = CONTENT, records: bytes = b"") -> bytes:
    return queuefile.MAGIC + str(len(envelope_json)).encode() + b"\n" + envelope_json + b"\n" + content + records


def check_queue_file(path, data: bytes) -> None:
    """Read back: CorruptQueueFile, or an envelope of the declared types whose content streams whole."""
    path.write_bytes(data)
    try:
        qf = QueueFile.read(str(path))
        content = b"".join(qf.content())
    except CorruptQueueFile:
        return
    assert len(content) == qf.content_length == qf.envelope.size
    check_types(qf.envelope)
    for recipient in qf.envelope.recipients:
        check_types(recipient)
    assert all(type(address) is str for address in qf.envelope.bcc)


def check_types(record: object) -> None:
    for field in fields(record):
        assert isinstance(getattr(record, field.name), TYPES[field.type]), (field.name, getattr(record, field.name))


def a_valid_envelope() -> dict:
    return json.loads(ENVELOPE.to_json())


@given(st.binary(max_size=300))
@budget(200)
def test_any_bytes_read_as_a_queue_file_or_corrupt(tmp_path_factory, data):
    check_queue_file(tmp_path_factory.mktemp("q") / "4ABCDEFGHIzJ", queuefile.MAGIC + data)


@given(st.sampled_from(sorted(a_valid_envelope())), JSON)
@budget(300)
def test_an_envelope_field_of_any_json_value(tmp_path_factory, name, value):
    envelope = a_valid_envelope()
    envelope[name] = value
    check_queue_file(tmp_path_factory.mktemp("q") / "q", stored(json.dumps(envelope).encode()))


@given(st.sampled_from(sorted(a_valid_envelope()["recipients"][0])), JSON)
@budget(150)
def test_a_recipient_field_of_any_json_value(tmp_path_factory, name, value):
    envelope = a_valid_envelope()
    envelope["recipients"][0][name] = value
    check_queue_file(tmp_path_factory.mktemp("q") / "q", stored(json.dumps(envelope).encode()))


@given(JSON, st.binary(max_size=20))
@budget(200)
def test_status_records_of_any_json_value(tmp_path_factory, record, tail):
    records = json.dumps(record).encode() + b"\n" + tail
    check_queue_file(tmp_path_factory.mktemp("q") / "q", stored(ENVELOPE.to_json(), records=records))


@given(st.integers(0, 400), st.binary(max_size=8), st.integers(0, 400))
@budget(300)
def test_a_valid_file_damaged_anywhere(tmp_path_factory, at, junk, cut):
    out = io.BytesIO()
    queuefile.write(out, ENVELOPE, iter([CONTENT]))
    record = json.dumps({"r": "bob@example.net", "s": "sent", "d": "2.0.0", "t": "ok", "h": "x"}).encode() + b"\n"
    data = out.getvalue() + record
    damaged = (data[:at] + junk + data[at + len(junk):])[:max(cut, 1) if cut < len(data) else len(data)]
    check_queue_file(tmp_path_factory.mktemp("q") / "q", damaged)
