"""The spool's moves between queues."""

from __future__ import annotations

import os

from filterd.queue.spool import Spool


def test_copy_in_makes_the_file_this_processs_own_and_removes_the_original(tmp_path):
    spool = Spool(tmp_path).create()
    original = spool.path("maildrop", "4jg8Rz5qh5z1Mp8DZk")
    original.write_bytes(b"a queue file\n" * 10000)
    original.chmod(0o444)
    copied = spool.copy_in("4jg8Rz5qh5z1Mp8DZk", "maildrop", "incoming")
    assert (copied, copied.read_bytes()) == (spool.path("incoming", "4jg8Rz5qh5z1Mp8DZk"), b"a queue file\n" * 10000)
    assert copied.stat().st_uid == os.geteuid() and copied.stat().st_mode & 0o200
    assert spool.ids("maildrop") == [] and os.listdir(tmp_path / "incoming") == ["4jg8Rz5qh5z1Mp8DZk"]
