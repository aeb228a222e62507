"""header_checks' log lines read by a tool written for Postfix's logs: pflogsumm counts them as cleanup's."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

MESSAGE = "From: a@example.org\nSubject: {subject}\n\nbody\nbody-warn here\n"


def check(config, directory, subject: str) -> str:
    """`filterd check` on a message with this subject; the log lines it wrote (to standard error)."""
    path = directory / f"{subject.replace(' ', '-')}.eml"
    path.write_text(MESSAGE.format(subject=subject))
    return subprocess.run([sys.executable, "-m", "filterd", "-c", str(config), "check", str(path)], check=False,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL).stderr


def test_pflogsumm_counts_rejects_holds_and_warnings(tmp_path):
    if not shutil.which("pflogsumm"):
        pytest.fail("not installed: pflogsumm (Debian package pflogsumm); run scripts/install-test.sh")
    (tmp_path / "hc.pcre").write_text("/^Subject: hold/ HOLD review\n/^Subject: reject/ REJECT no\n")
    (tmp_path / "bc.pcre").write_text("/^body-warn/ WARN seen\n")
    config = tmp_path / "main.cf"
    config.write_text(f"filterd_plugins = header_checks\nheader_checks = pcre:{tmp_path}/hc.pcre\n"
                      f"body_checks = pcre:{tmp_path}/bc.pcre\n")
    log = tmp_path / "maillog"
    log.write_text("".join(check(config, tmp_path, subject) for subject in ("hold me", "reject me", "hold again")))
    report = subprocess.run(["pflogsumm", "--syslog-name=filterd", str(log)], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL).stdout
    assert "      1   rejected (100%)" in report
    assert "      2   reject warnings" in report
    assert "      2   held" in report
    detail = report.split("message reject detail", 1)[1]
    assert "cleanup" in detail and "Subject: reject me" in detail
