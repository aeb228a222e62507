"""Queue files and the spool: durable writes, status records, crash leftovers, corruption."""

import json
import os

import pytest

from filterd.queue.queuefile import MAGIC, CorruptQueueFile, QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool

CONTENT = [b"Subject: hi\r\n\r\n", b"body\r\n"]


def envelope(qid="4ABCDEFGHIzJ", size=sum(map(len, CONTENT))):
    return QueueEnvelope(qid, "alice@example.org", [Recipient("bob@example.net"), Recipient("carol@example.net")],
                         arrival=1_700_000_000.0, size=size, client="localhost[127.0.0.1]")


@pytest.fixture
def spool(tmp_path):
    return Spool(tmp_path / "spool").create()


def test_a_stored_message_reads_back(spool):
    path = spool.store("incoming", envelope(), iter(CONTENT))
    qf = QueueFile.read(str(path))
    assert qf.envelope.sender == "alice@example.org"
    assert [r.address for r in qf.envelope.pending()] == ["bob@example.net", "carol@example.net"]
    assert b"".join(qf.content()) == b"".join(CONTENT)
    assert spool.ids("incoming") == ["4ABCDEFGHIzJ"]


def test_status_records_fold_into_the_envelope(spool):
    qf = QueueFile.read(str(spool.store("incoming", envelope(), iter(CONTENT))))
    bob = qf.envelope.recipients[0]
    bob.status, bob.dsn, bob.text = "sent", "2.0.0", "250 ok"
    qf.record(bob)
    again = QueueFile.read(qf.path)
    assert [r.address for r in again.envelope.pending()] == ["carol@example.net"]
    assert again.envelope.recipients[0].text == "250 ok"


def test_a_torn_last_status_record_is_ignored(spool):
    path = spool.store("incoming", envelope(), iter(CONTENT))
    with open(path, "ab") as f:
        f.write(b'{"r": "bob@example.net", "s": "se')
    assert len(QueueFile.read(str(path)).envelope.pending()) == 2


def test_a_size_mismatch_is_refused_and_leaves_nothing(spool):
    from filterd.queue.spool import QueueFull

    with pytest.raises(QueueFull):
        spool.store("incoming", envelope(size=5), iter(CONTENT))
    assert os.listdir(spool.root / "incoming") == []


@pytest.mark.parametrize("damage", [b"garbage", b"FQ1 10\n{\"queue_id\"", b""])
def test_unreadable_files_are_corrupt(spool, damage):
    path = spool.root / "incoming" / "4BAD"
    path.write_bytes(damage)
    with pytest.raises(CorruptQueueFile):
        QueueFile.read(str(path))


def test_truncated_content_is_corrupt(spool):
    path = spool.store("incoming", envelope(), iter(CONTENT))
    data = path.read_bytes()
    path.write_bytes(data[:-3])
    with pytest.raises(CorruptQueueFile):
        QueueFile.read(str(path))


def test_move_sets_the_next_attempt_time(spool):
    spool.store("incoming", envelope(), iter(CONTENT))
    moved = spool.move("4ABCDEFGHIzJ", "incoming", "deferred", when=2_000_000_000)
    assert int(moved.stat().st_mtime) == 2_000_000_000
    assert spool.find("4ABCDEFGHIzJ") == "deferred"


def test_crash_leftovers_are_cleaned(spool):
    (spool.root / "incoming" / ".tmp.4XYZ").write_bytes(b"half")
    assert spool.clean_temporary() == 1
    assert spool.ids("incoming") == []


@pytest.mark.parametrize("field, value", [("arrival", None), ("size", "22"), ("size", -1), ("sender", 7),
                                          ("recipients", {}), ("bcc", [1]), ("is_bounce", "no"),
                                          ("arrival", float("inf"))])
def test_an_envelope_field_of_another_type_is_corrupt(spool, field, value):
    """Found by fuzzing: {"arrival": null} and the like read as a queue file, and the queue manager failed later;
    {"size": -1} read as a message of -1 bytes."""
    path = spool.store("incoming", envelope(), iter(CONTENT))
    record = json.loads(path.read_bytes().split(b"\n")[1])
    record[field] = value
    path.write_bytes(stored(json.dumps(record).encode()))
    with pytest.raises(CorruptQueueFile, match=field):
        QueueFile.read(str(path))


def test_a_recipient_field_of_another_type_is_corrupt(spool):
    path = spool.root / "incoming" / "4BAD"
    record = json.loads(envelope().to_json())
    record["recipients"][0]["address"] = None
    path.write_bytes(stored(json.dumps(record).encode()))
    with pytest.raises(CorruptQueueFile, match="address"):
        QueueFile.read(str(path))


@pytest.mark.parametrize("status", [b"null", b"[1]", b'{"r": "bob@example.net", "s": 5}'])
def test_a_status_record_that_is_not_one_of_strings_is_corrupt(spool, status):
    """Found by fuzzing: a status record `null` raised AttributeError out of QueueFile.read."""
    path = spool.store("incoming", envelope(), iter(CONTENT))
    with open(path, "ab") as f:
        f.write(status + b"\n")
    with pytest.raises(CorruptQueueFile):
        QueueFile.read(str(path))


def test_an_envelope_too_deep_or_too_large_is_corrupt(spool):
    """Found by fuzzing: json's RecursionError and seek's OverflowError came out of QueueFile.read."""
    path = spool.root / "incoming" / "4BAD"
    path.write_bytes(stored(b"[" * 100_000))
    with pytest.raises(CorruptQueueFile):
        QueueFile.read(str(path))
    record = json.loads(envelope().to_json())
    record["size"] = 2**70
    path.write_bytes(stored(json.dumps(record).encode()))
    with pytest.raises(CorruptQueueFile):
        QueueFile.read(str(path))


def stored(envelope_json: bytes) -> bytes:
    return MAGIC + str(len(envelope_json)).encode() + b"\n" + envelope_json + b"\n" + b"".join(CONTENT)


@pytest.mark.parametrize("length", [b"99999999999999999999", b"-5", b"1000"])
def test_an_envelope_length_beyond_the_file_is_corrupt(spool, length):
    """Found by bench/fuzz (atheris): "FQ1 99999999999999999999" made the reader allocate that many bytes and
    raise MemoryError out of QueueFile.read, and into the queue manager."""
    path = spool.root / "incoming" / "4BAD"
    path.write_bytes(MAGIC + length + b"\n" + envelope().to_json() + b"\n" + b"".join(CONTENT))
    with pytest.raises(CorruptQueueFile, match="beyond the file"):
        QueueFile.read(str(path))


def test_statuses_of_addresses_the_file_does_not_list_are_kept_apart(tmp_path):
    """A REDIRECT's target is recorded under its own address (the file keeps the recipients it was queued with):
    its last status is in `others`, as Postfix's defer log names it beside the queue file."""
    spool = Spool(tmp_path).create()
    path = spool.store("active", QueueEnvelope("4Q9", "a@x", [Recipient("b@y")], 0.0, size=1), iter([b"x"]))
    qf = QueueFile.read(str(path))
    qf.record(Recipient("new@z", status="deferred", dsn="4.4.1", text="first"))
    qf.record(Recipient("new@z", status="deferred", dsn="4.4.1", text="second"))
    again = QueueFile.read(str(path))
    assert again.envelope.recipients == [Recipient("b@y")]
    assert again.others == [Recipient("new@z", status="deferred", dsn="4.4.1", text="second")]
