"""bench/fuzz's atheris targets run on sample inputs as libFuzzer would call them, without atheris: each decodes
its bytes and checks the suite's property, and passes on inputs that are fine."""

from __future__ import annotations

import pytest

from bench.fuzz import TARGETS, main
from filterd.milter.protocol import commands as c

SAMPLES = {
    "milter-stream": c.Helo("x").encode() * 2, "milter-commands": b"\x05client\x00", "milter-responses": b"\x03",
    "milter-macros": b"Cj\x00mx\x00", "milter-handler": c.OptNeg(6, 0x1FF, 0x1FFFFF).encode() + c.Helo("x").encode(),
    "regexp": b"/a/ A\nif /b/\n/c/ $1\nendif\n", "pcre": b"/(a)/ $1\n!/b/ B\n", "cidr": b"10.0.0.0/8 ten\n",
    "texthash": b"a b\nA dup\n", "inline": b"{ a=b, { k = v w } }", "main-cf": b"a = $b\nn = 3\n t\n",
    "content": b"Subject: x\r\n folded\r\n\r\nbody\r\n", "mime": b"Content-Type: multipart/mixed; boundary=b\n\n--b\n",
    "queue-file": b"2\n{}\n", "smtp-arguments": b"NOTIFY=NEVER ORCPT=rfc822;a+40b PORT=25",
    "smtp-session": b"EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n",
    "policy-stream": b"\x07request=smtpd_access_policy\nprotocol_state=RCPT\nsize=1\n\nbad\n\n",
}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_target_takes_its_sample_empty_and_junk_input(name):
    for data in (SAMPLES[name], b"", b"\x00" * 12, b"\xff\n:{$(" * 3):
        TARGETS[name](data)


def test_list_names_every_target(capsys):
    assert main(["list"]) == 0
    assert capsys.readouterr().out.split() == sorted(TARGETS)
