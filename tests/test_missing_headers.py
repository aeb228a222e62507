"""The headers relay mode adds to a message that lacks them, as Postfix's cleanup adds them, and for whom."""

import time

from filterd.missing_headers import MissingHeaders
from filterd.model import Message
from filterd.config import Config, parse_main_cf
from filterd.parameters import CORE_PARAMETERS

WHEN = time.mktime((2026, 12, 3, 9, 5, 7, 0, 0, -1))


def load_config(*lines: str) -> Config:
    return Config(parse_main_cf("".join(f"{line}\n" for line in lines), "main.cf"), CORE_PARAMETERS, "main.cf")


def names_values(message: Message) -> list[tuple[str, str]]:
    return [(h.name, h.value) for h in message.headers]


def test_a_message_with_no_headers_gets_message_id_date_and_from_in_postfix_s_order():
    message = Message.from_bytes(b"\r\nbody\r\n")
    added = MissingHeaders("mx.example.com").add(message, "alice@example.org", "4F2A1B3C", WHEN)
    assert added == "message-id=<20261203090507.4F2A1B3C@mx.example.com>"
    assert [name for name, _ in names_values(message)] == ["Message-Id", "Date", "From"]
    assert message["Message-Id"] == "<20261203090507.4F2A1B3C@mx.example.com>"
    assert message["Date"].startswith("Thu,  3 Dec 2026 09:05:07 ")
    assert message["From"] == "alice@example.org"


def test_the_null_sender_is_mailer_daemon():
    message = Message.from_bytes(b"Subject: x\r\n\r\nbody\r\n")
    MissingHeaders("mx.example.com").add(message, "", "Q1", WHEN)
    assert message["From"] == "MAILER-DAEMON"


def test_present_headers_are_kept_and_nothing_is_added_in_their_place():
    raw = b"from: a@b.c\r\nDATE: Mon, 1 Dec 2026 10:00:00 +0000\r\nmessage-id: <x@y>\r\n\r\nbody\r\n"
    message = Message.from_bytes(raw)
    assert MissingHeaders("mx.example.com").add(message, "alice@example.org", "Q1", WHEN) == ""
    assert len(message.headers) == 3


def test_a_resent_message_gets_the_resent_forms():
    message = Message.from_bytes(b"Resent-From: x@y.z\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n")
    added = MissingHeaders("mx.example.com").add(message, "alice@example.org", "Q1", WHEN)
    assert added == "resent-message-id=<20261203090507.Q1@mx.example.com>"
    assert [name for name, _ in names_values(message)] == ["Resent-From", "Message-ID", "Resent-Message-Id",
                                                          "Resent-Date"]


def test_only_the_clients_of_local_header_rewrite_clients_unless_always():
    config = load_config("mynetworks = 192.0.2.0/24")
    default = MissingHeaders.from_config(config)
    assert [default.applies(a) for a in ("127.0.0.1", "::1", "192.0.2.7", "198.51.100.1")] == [True, True, False,
                                                                                                False]
    mynetworks = MissingHeaders.from_config(load_config(
        "mynetworks = 192.0.2.0/24", "local_header_rewrite_clients = permit_mynetworks"))
    assert [mynetworks.applies(a) for a in ("127.0.0.1", "192.0.2.7")] == [False, True]
    always = MissingHeaders.from_config(load_config("always_add_missing_headers = yes"))
    assert always.applies("198.51.100.1")
