"""The spool's moves between queues."""

from __future__ import annotations

import os

import pytest

from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import QueueFull, Spool


def test_copy_in_makes_the_file_this_processs_own_and_removes_the_original(tmp_path):
    spool = Spool(tmp_path).create()
    original = spool.path("maildrop", "4jg8Rz5qh5z1Mp8DZk")
    original.write_bytes(b"a queue file\n" * 10000)
    original.chmod(0o444)
    copied = spool.copy_in("4jg8Rz5qh5z1Mp8DZk", "maildrop", "incoming")
    assert (copied, copied.read_bytes()) == (spool.path("incoming", "4jg8Rz5qh5z1Mp8DZk"), b"a queue file\n" * 10000)
    assert copied.stat().st_uid == os.geteuid() and copied.stat().st_mode & 0o200
    assert spool.ids("maildrop") == [] and os.listdir(tmp_path / "incoming") == ["4jg8Rz5qh5z1Mp8DZk"]


def test_only_a_new_file_waits_for_the_disk(tmp_path, monkeypatch):
    """store fsyncs the file and its directory before the client hears 250; the queue manager's moves and removal
    (sync=False) rename and unlink without fsync, as Postfix's: a system crash undoing one leaves the file where it
    was. The administrator's tools (postsuper) still sync by default."""
    spool, synced = Spool(tmp_path).create(), []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real_fsync(fd))
    spool.store("incoming", QueueEnvelope("4jgCaa1Bc2zD3", "a@example.org", [Recipient("b@example.net")], 1.0, 4),
                iter([b"hi\r\n"]))
    assert synced == [str(tmp_path / "incoming" / ".tmp.4jgCaa1Bc2zD3"), str(tmp_path / "incoming")]
    spool.move("4jgCaa1Bc2zD3", "incoming", "active", sync=False)
    spool.move("4jgCaa1Bc2zD3", "active", "deferred", when=2.0, sync=False)
    spool.remove("deferred", "4jgCaa1Bc2zD3", sync=False)
    assert len(synced) == 2 and spool.find("4jgCaa1Bc2zD3") is None


def test_a_count_stands_while_it_is_fresh_enough(tmp_path):
    spool = Spool(tmp_path).create()
    assert spool.count("incoming", stale=60) == 0
    spool.store("incoming", QueueEnvelope("4QCOUNT1", "a@x", [Recipient("b@y")], 0.0, size=1), iter([b"x"]))
    assert spool.count("incoming", stale=60) == 0
    assert spool.count("incoming") == 1
    assert Spool(tmp_path / "nowhere").count("incoming") == 0


def test_a_new_file_is_written_first_and_made_durable_apart(tmp_path, monkeypatch):
    """write_new leaves the file under its temporary name, unsynced (the event loop writes a small message itself);
    commit fsyncs it, renames it to its queue id and fsyncs the directory (in a thread)."""
    spool, synced = Spool(tmp_path).create(), []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real_fsync(fd))
    envelope = QueueEnvelope("4jgCaa1Bc2zD4", "a@example.org", [Recipient("b@example.net")], 1.0, 4)
    new = spool.write_new("incoming", envelope, iter([b"hi", b"\r\n"]))
    assert os.listdir(tmp_path / "incoming") == [".tmp.4jgCaa1Bc2zD4"] and synced == []
    assert spool.commit(new) == spool.path("incoming", "4jgCaa1Bc2zD4")
    assert synced == [str(tmp_path / "incoming" / ".tmp.4jgCaa1Bc2zD4"), str(tmp_path / "incoming")]
    assert QueueFile.read(str(new.final)).envelope == envelope and new.fd == -1


def test_a_new_file_that_cannot_be_completed_is_removed(tmp_path, monkeypatch):
    spool = Spool(tmp_path).create()
    short = QueueEnvelope("4jgCaa1Bc2zD5", "a@example.org", [Recipient("b@example.net")], 1.0, 10)
    with pytest.raises(QueueFull, match="wrote 4 bytes of content, expected 10"):
        spool.write_new("incoming", short, iter([b"hi\r\n"]))
    new = spool.write_new("incoming", QueueEnvelope("4jgCaa1Bc2zD6", "a@x", [Recipient("b@y")], 1.0, 1), iter([b"x"]))
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(5, "Input/output error")))
    with pytest.raises(QueueFull, match="Input/output error"):
        spool.commit(new)
    assert os.listdir(tmp_path / "incoming") == [] and new.fd == -1
