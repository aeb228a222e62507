"""master.pid and its lock: what `filterd status` reads, and why a second master refuses to start."""

from __future__ import annotations

import os

import pytest

from filterd.daemon import PidFile, pid_path, running_pid
from filterd.fatal import FatalError


def test_the_pid_file_is_postfixs_place(tmp_path):
    assert pid_path(str(tmp_path)) == tmp_path / "pid" / "master.pid"


def test_a_locked_pid_file_names_the_running_master(tmp_path):
    pid_file = PidFile(pid_path(str(tmp_path)))
    pid_file.acquire()
    assert pid_file.path.read_text() == f"{os.getpid():>10}\n"
    child = os.fork()
    if child == 0:
        os._exit(0 if running_pid(pid_file.path) == os.getppid() else 1)
    assert os.waitpid(child, 0)[1] == 0
    pid_file.close()
    assert running_pid(pid_file.path) is None


def test_a_stale_or_missing_pid_file_says_not_running(tmp_path):
    path = pid_path(str(tmp_path))
    assert running_pid(path) is None
    path.parent.mkdir()
    path.write_text("         1\n")
    assert running_pid(path) is None


def test_a_second_master_is_refused(tmp_path):
    path = pid_path(str(tmp_path))
    first = PidFile(path)
    first.acquire()
    child = os.fork()
    if child == 0:
        try:
            PidFile(path).acquire()
        except FatalError as exc:
            os._exit(0 if str(exc) == "the filterd mail system is already running" else 2)
        os._exit(1)
    assert os.waitpid(child, 0)[1] == 0
    first.close()
