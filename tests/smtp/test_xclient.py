"""XCLIENT's attributes read as Postfix's xclient_cmd reads them, and applied to the session (sans IO)."""

from __future__ import annotations

from filterd.model import Envelope, Session
from filterd.received import received_header
from filterd.smtp.xclient import apply_xclient, parse_xclient


def test_attributes_are_xtext_decoded_upper_cased_and_checked_in_postfix_s_words():
    assert parse_xclient("name=mail.example ADDR=IPv6:2001:DB8::1 helo=a+20b") == {
        "NAME": "mail.example", "ADDR": "IPv6:2001:DB8::1", "HELO": "a b"}
    assert parse_xclient("NAME=[TEMPUNAVAIL] ADDR=[UNAVAILABLE] PORT=[UNAVAILABLE]") == {
        "NAME": "[TEMPUNAVAIL]", "ADDR": "[UNAVAILABLE]", "PORT": "[UNAVAILABLE]"}
    assert parse_xclient("ADDR=[TEMPUNAVAIL]") == "501 5.5.4 Bad ADDR syntax: [TEMPUNAVAIL]"
    assert parse_xclient("NAME=ok.example Foo=1") == "501 5.5.4 Bad XCLIENT attribute name: Foo"
    assert parse_xclient("NAME") == "501 5.5.4 Error: attribute=value expected"
    assert parse_xclient("LOGIN=" + "x" * 256) == "501 5.5.4 Error: attribute value too long"
    assert parse_xclient("NAME=1.2.3.4") == "501 5.5.4 Bad NAME syntax: 1.2.3.4"
    assert parse_xclient("PROTO=esmtp") == {"PROTO": "esmtp"}
    assert parse_xclient("PROTO=[UNAVAILABLE]") == "501 5.5.4 Bad PROTO syntax: [UNAVAILABLE]"
    assert parse_xclient("DESTPORT=123456") == "501 5.5.4 Bad DESTPORT syntax: 123456"
    assert parse_xclient("HELO=a+01b") == {"HELO": "a?b"}


def test_the_session_becomes_the_simulated_client_s_and_forgets_its_helo_and_login():
    session = Session(client_address="127.0.0.1", client_name="localhost", helo="old.example", protocol="ESMTP",
                      sasl_username="old", sasl_method="PLAIN")
    apply_xclient(session, {"NAME": "mail.example", "ADDR": "IPv6:2001:db8::1", "PORT": "2525"})
    assert (session.client_name, session.reverse_client_name, session.client_name_status) == (
        "mail.example", "mail.example", "OK")
    assert (session.client_address, session.client_port, session.helo, session.protocol) == (
        "2001:db8::1", 2525, "", "SMTP")
    assert session.sasl_username == session.sasl_method == ""
    apply_xclient(session, {"NAME": "[TEMPUNAVAIL]", "HELO": "h<x>", "PROTO": "esmtp", "LOGIN": "joe",
                            "DESTADDR": "192.0.2.1", "DESTPORT": "25"})
    assert (session.client_name, session.client_name_status, session.reverse_client_name) == (
        "unknown", "TEMP", "mail.example")
    assert (session.helo, session.protocol, session.sasl_username, session.sasl_method) == (
        "h?x?", "ESMTP", "joe", "XCLIENT")
    assert (session.server_address, session.server_port) == ("192.0.2.1", 25)


def test_the_received_header_adds_rfc_3848_s_a_for_esmtp_only():
    def protocol(proto: str) -> str:
        session = Session(client_address="192.0.2.1", client_name="mail.example", helo="h.example", protocol=proto,
                          sasl_username="joe")
        header = received_header(session, Envelope(sender="a@example.org", queue_id="ABC"), "relay.example")
        return str(header).split(" with ")[1].split()[0]

    assert (protocol("SMTP"), protocol("ESMTP")) == ("SMTP", "ESMTPA")
