"""smtpd_reject_footer applied to replies with strings alone, as Postfix's smtp_reply_footer() applies it."""

from __future__ import annotations

import pytest

from filterd.smtp.footer import RejectFooter, address_part, expand, with_footer

VALUES = {"client_address": "192.0.2.1", "server_name": "mx.example", "helo_name": "", "sender": "a\x01b@x"}


@pytest.mark.parametrize(("reply", "footer", "expected"), [
    ("550 5.7.1 No", "Call $server_name", "550-5.7.1 No\r\n550 5.7.1 Call mx.example"),
    ("550 5.7.1 No", "\\c, ${client_address}\\nbye", "550-5.7.1 No, 192.0.2.1\r\n550 5.7.1 bye"),
    ("550 5.7.1 No", "\\c!", "550 5.7.1 No!"),
    ("421 Busy", "later", "421-Busy\r\n421 later"),
    ("550-5.7.1 One\r\n550 5.7.2 Two", "x\\ny", "550-5.7.1 One\r\n550-5.7.2 Two\r\n550-5.7.2 x\r\n550 5.7.2 y"),
    ("250 2.0.0 Ok", "never", "250 2.0.0 Ok"),
], ids=["one-line", "joined", "joined-only", "no-dsn", "multi-line", "not-a-refusal"])
def test_the_footer_goes_after_the_last_line_with_its_code_and_status(reply, footer, expected):
    assert with_footer(reply, footer, VALUES.get) == expected


def test_macros_expand_as_mac_expand_does():
    assert expand("${helo_name:none} ${server_name?up} $(client_address) $$ $sender", VALUES.get) == \
        "none up 192.0.2.1 $ a_b@x"
    assert expand("[$bogus]", VALUES.get) == "[]"


@pytest.mark.parametrize(("address", "part", "expected"), [
    ("a@b.example", "", "a@b.example"), ("a@b.example", "name", "a"), ("a@b.example", "domain", "b.example"),
    ("", "", "<>"), ("", "name", "<>"), ("", "domain", ""), (None, "", ""), ("postmaster", "domain", ""),
])
def test_address_parts(address, part, expected):
    assert address_part(address, part) == expected


def test_the_maps_are_asked_with_the_whole_reply_first():
    class Table:
        def lookup(self, key):
            return "mapped" if key.startswith("554") else None
    footer = RejectFooter("plain", (Table(),))
    assert footer.apply("554 5.7.1 x", VALUES.get) == "554-5.7.1 x\r\n554 5.7.1 mapped"
    assert footer.apply("450 4.7.1 y", VALUES.get) == "450-4.7.1 y\r\n450 4.7.1 plain"
