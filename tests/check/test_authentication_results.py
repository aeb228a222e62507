"""`filterd check` shows each authentication result with the plugin that reported it, and the message with the one
Authentication-Results header the core wrote."""

from __future__ import annotations

import pytest

from filterd.cli import main

SPF_PLUGIN = '''
from filterd import Verdict, hookimpl


@hookimpl
def mail_from(sender):
    return Verdict.auth_result("spf", "pass", properties={"smtp.mailfrom": sender})
'''

pytestmark = pytest.mark.usefixtures("restore_filterd_logger")


def test_check_shows_each_result_and_the_header(tmp_path, capsys):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "fakespf.py").write_text(SPF_PLUGIN)
    (tmp_path / "main.cf").write_text("myhostname = mx.example.com\nfilterd_plugins = fakespf\n")
    (tmp_path / "message.eml").write_bytes(b"Authentication-Results: mx.example.com; spf=pass\nFrom: a@example.org\n"
                                           b"Subject: hi\n\nbody\n")
    assert main(["check", "-c", str(tmp_path), "-f", "a@example.org", str(tmp_path / "message.eml")]) == 0
    report, message = capsys.readouterr().out.split("\n\n", 1)
    assert " ".join(report.splitlines()[0].split()) == \
        "mail_from fakespf DUNNO; auth_result spf=pass smtp.mailfrom=a@example.org"
    assert message.count("Authentication-Results:") == 1
    assert "Authentication-Results: mx.example.com;\n\tspf=pass smtp.mailfrom=a@example.org\n" in message
