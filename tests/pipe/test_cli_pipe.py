"""`filterd pipe` through filterd.cli with filterd_pipe_service set: the command line pipe(8) gives is handed to
the service before argparse, asyncio, the chain, pluggy or email parsing are imported; other command lines and
main.cf without the parameter go the whole way."""

from __future__ import annotations

import subprocess
import sys

import pytest

from filterd.cli import _pipe_words

HEAVY = ("argparse", "asyncio", "email", "pluggy", "typing", "filterd.chain", "filterd.config", "filterd.loading")


@pytest.mark.parametrize("argv, words", [
    (["-c", "/x", "pipe", "-f", "a@b", "--", "r@x", "s@y"], ({"-c": ["/x"], "-o": []}, "a@b", ["r@x", "s@y"])),
    (["pipe", "-c", "/x", "-o", "a=b", "-f", "", "--", "-r@x"], ({"-c": ["/x"], "-o": ["a=b"]}, "", ["-r@x"])),
    (["pipe", "-f", "a@b", "r@x"], ({"-c": [], "-o": []}, "a@b", ["r@x"])),
])
def test_the_command_lines_pipe_8_gives(argv, words):
    assert _pipe_words(argv) == words


@pytest.mark.parametrize("argv", [["pipe", "-f", "a", "-x"], ["check", "-f", "a", "r"], ["pipe", "-f", "a"],
                                  ["pipe", "-f", "a", "--"], ["pipe", "--help"], ["-c", "pipe"]])
def test_any_other_command_line_is_left_to_argparse(argv):
    assert _pipe_words(argv) is None


def run_pipe(tmp_path, main_cf: str) -> subprocess.CompletedProcess:
    """`filterd -c main.cf pipe` in a fresh interpreter; it prints its output, then the heavy modules it imported."""
    (tmp_path / "main.cf").write_text(main_cf)
    code = ("import sys\nfrom filterd.cli import main\nstatus = main()\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])\nsys.exit(status)\n")
    return subprocess.run([sys.executable, "-c", code, "-c", str(tmp_path), "pipe", "-f", "a@example.org", "--",
                           "b@example.net"], input=b"Subject: x\r\n\r\nhi\r\n", capture_output=True, timeout=60)


def test_with_the_service_set_nothing_heavy_is_imported(tmp_path):
    result = run_pipe(tmp_path, f"filterd_pipe_service = unix:{tmp_path}/none.sock\n")
    assert result.returncode == 75
    assert result.stdout.decode().splitlines() == [
        f"4.3.0 cannot connect to the filterd pipe service unix:{tmp_path}/none.sock: No such file or directory", "[]"]


def test_a_dollar_in_the_setting_is_left_to_the_loader(tmp_path):
    result = run_pipe(tmp_path, f"queue_directory = {tmp_path}\n"
                                "filterd_pipe_service = unix:$queue_directory/none.sock\n")
    assert result.returncode == 75
    assert result.stdout.decode().startswith(f"4.3.0 cannot connect to the filterd pipe service unix:{tmp_path}/")
    assert "filterd.loading" in result.stdout.decode()
