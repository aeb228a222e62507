"""The starter tables of conf/header_checks/, each on the messages it is meant for and on those it must let through."""

from __future__ import annotations

from pathlib import Path

import pytest

from filterd import Action
from filterd.plugins import header_checks
from filterd.testing import run_plugin
from tests.plugins.header_checks.corpus import attachment, message, multipart, text_part

STARTER_TABLES = Path(__file__).resolve().parents[3] / "conf" / "header_checks"


def setting(name: str, table: str | None = None) -> dict[str, str]:
    return {name: f"pcre:{STARTER_TABLES / (table or name + '.pcre')}"}


def run(settings: dict[str, str], text: str, **envelope):
    data = text.replace("\n", "\r\n").encode()
    return run_plugin(header_checks, message=data, settings=settings, **envelope)


def test_the_three_tables_are_there_with_their_readme():
    names = {entry.name for entry in STARTER_TABLES.iterdir()}
    assert {"mime_header_checks.pcre", "submission_header_checks.pcre", "body_checks.pcre", "README.md"} <= names


@pytest.mark.parametrize("part, name, kind", [
    (attachment("invoice.pdf.exe"), "invoice.pdf.exe", "exe"),
    (attachment("run.bat", "disposition"), "run.bat", "bat"),
    (attachment("script.js", "type", ""), "script.js", "js"),
    (attachment("EVIL.EXE"), "EVIL.EXE", "EXE"),
    ("Content-Type: application/x\nContent-Disposition: attachment;\n\tfilename=\"s.scr\"\n\nAA==\n", "s.scr", "scr"),
    ("Content-Type: application/x\nContent-Disposition: attachment; filename*=utf-8''e%2Evbs\n\nAA==\n",
     "utf-8''e%2Evbs", "vbs"),
    ('Content-Type: application/x; name="=?utf-8?Q?a=2Ecmd?="\n\nAA==\n', "=?utf-8?Q?a=2Ecmd", "cmd"),
    (attachment("tool.ps1"), "tool.ps1", "ps1"),
])
def test_executable_and_script_attachments_are_refused(part, name, kind):
    outcome = run(setting("mime_header_checks"), multipart("files", [text_part(), part]))
    assert outcome.action is Action.REJECT
    assert outcome.verdict.reply() == (550, "5.7.1", f'Attachment "{name}" refused: files of type .{kind} '
                                                     "are not accepted here")


@pytest.mark.parametrize("name", ["report.pdf", "exe.txt", "executive.doc", "archive.exe.zip", "notes.jsx"])
def test_other_attachments_pass(name):
    assert run(setting("mime_header_checks"), multipart("files", [text_part(), attachment(name)])).accepted


def test_an_executable_attached_to_a_forwarded_message_is_refused_too():
    inner = multipart("inner", [text_part(), attachment("nested.com")])
    outcome = run(setting("mime_header_checks"), multipart("fwd", [f"Content-Type: message/rfc822\n\n{inner}"]))
    assert outcome.action is Action.REJECT


def test_submission_strips_internal_received_headers_and_keeps_the_rest():
    hops = ("Received: from pc7.lan (pc7.lan [192.168.4.7])\n\tby relay.lan with ESMTP id A1\n"
            "Received: from app (app [10.2.3.4]) by relay.lan\n"
            "Received: from app6 (app6 [IPv6:fd00:1::5]) by relay.lan\n"
            "Received: from mx.example.com (mx.example.com [203.0.113.5]) by relay.lan\n"
            "X-Originating-IP: [192.168.4.7]\n")
    outcome = run(setting("header_checks", "submission_header_checks.pcre"), message("hi", hops),
                  add_received=True, client_address="192.168.4.8")
    received = outcome.message.get_all("Received")
    assert received == ["from mx.example.com (mx.example.com [203.0.113.5]) by relay.lan"]
    assert outcome.message.get("X-Originating-IP") is None


def test_submission_strips_the_authenticated_submission_hop():
    hop = "Received: from laptop (host.example [198.51.100.20])\n\tby mail.example.org with ESMTPSA id X\n"
    outcome = run(setting("header_checks", "submission_header_checks.pcre"), message("hi", hop))
    assert outcome.message.get("Received") is None


@pytest.mark.parametrize("line", ["<iframe src=3Dcid:EA4DMGBP9p height=3D0 width=3D0>",
                                  '<iframe src="cid:x1" height="0" width="0">'])
def test_the_nimda_iframe_is_refused(line):
    outcome = run(setting("body_checks"), message("x", body=f"hello\n{line}\nbye\n"))
    assert outcome.action is Action.REJECT
    assert "Nimda" in outcome.verdict.text


def test_an_ordinary_iframe_passes():
    assert run(setting("body_checks"), message("x", body='<iframe src="https://example.org/" height=300>\n')).accepted
