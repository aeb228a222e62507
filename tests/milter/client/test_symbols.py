"""The macros sent with each event: Postfix's lists, a milter's own lists, values and defaults."""

from __future__ import annotations

from filterd.milter.client.symbols import Context, MacroSettings, macros, names_for, parse_defaults
from filterd.milter.protocol import codes
from filterd.model import Envelope, Session

from filterd.milter.client.settings import MACRO_LISTS
from filterd.milter.client.symbols import STAGE_PARAMETERS

SETTINGS = MacroSettings({code: MACRO_LISTS[name] for code, name in STAGE_PARAMETERS.items()},
                         "mx.example.org", "mx.example.org", "filterd 0.1.0")
SESSION = Session(client_address="192.0.2.1", client_port=4242, client_name="client.example")


def test_connect_macros_are_postfix_s_defaults_with_values():
    pairs = macros(codes.CONNECT, Context(SESSION), SETTINGS, {})
    assert pairs == (("j", "mx.example.org"), ("{daemon_name}", "mx.example.org"), ("v", "filterd 0.1.0"),
                     ("_", "client.example [192.0.2.1]"))


def test_mail_and_rcpt_macros_follow_the_transaction():
    envelope = Envelope(queue_id="", sender="a@example.org")
    assert macros(codes.MAIL, Context(SESSION, envelope), SETTINGS, {}) == (
        ("{mail_addr}", "a@example.org"), ("{mail_host}", "example.org"), ("{mail_mailer}", "smtp"))
    envelope.queue_id = "4abc"
    assert macros(codes.RCPT, Context(SESSION, envelope, "b@example.net"), SETTINGS, {}) == (
        ("i", "4abc"), ("{rcpt_addr}", "b@example.net"), ("{rcpt_host}", "example.net"), ("{rcpt_mailer}", "smtp"))
    assert macros(codes.MAIL, Context(SESSION, Envelope(sender="")), SETTINGS, {})[0] == ("{mail_addr}", "")


def test_mail_macros_tell_the_smtp_auth_login_as_postfix_s_defaults_list_them():
    session = Session(sasl_username="alice", sasl_method="PLAIN", sasl_sender="<a@example.org>")
    assert macros(codes.MAIL, Context(session, Envelope(sender="a@example.org")), SETTINGS, {})[:3] == (
        ("{auth_type}", "PLAIN"), ("{auth_authen}", "alice"), ("{auth_author}", "<a@example.org>"))


def test_headers_and_body_chunks_carry_the_end_of_header_and_end_of_data_lists():
    context = Context(SESSION, Envelope(queue_id="Q1"))
    assert macros(codes.HEADER, context, SETTINGS, {}) == (("i", "Q1"),)
    assert macros(codes.BODY, context, SETTINGS, {}) == (("i", "Q1"),)
    assert macros(codes.UNKNOWN, context, SETTINGS, {}) == ()


def test_a_milter_s_own_list_takes_precedence():
    own = {int(codes.Stage.CONNECT): "{client_addr} {client_port} {client_ptr}", int(codes.Stage.EOM): ""}
    assert names_for(codes.CONNECT, SETTINGS, own) == "{client_addr} {client_port} {client_ptr}"
    assert names_for(codes.BODYEOB, SETTINGS, own) == "i"
    assert macros(codes.CONNECT, Context(SESSION), SETTINGS, own) == (
        ("{client_addr}", "192.0.2.1"), ("{client_port}", "4242"), ("{client_ptr}", "client.example"))


def test_defaults_fill_in_macros_without_a_value():
    settings = MacroSettings({codes.HELO: "{tls_version} {if_addr} {cipher}"},
                             defaults=parse_defaults("{tls_version}=none, if_addr=10.0.0.1"))
    assert macros(codes.HELO, Context(SESSION), settings, {}) == (("{tls_version}", "none"), ("{if_addr}", "10.0.0.1"))


def test_helo_macros_tell_the_tls_session_once_there_is_one():
    encrypted = Session(client_address="192.0.2.1", tls=True, tls_protocol="TLSv1.3",
                        tls_cipher="TLS_AES_256_GCM_SHA384", tls_cipher_bits=256)
    assert macros(codes.HELO, Context(encrypted), SETTINGS, {}) == (
        ("{tls_version}", "TLSv1.3"), ("{cipher}", "TLS_AES_256_GCM_SHA384"), ("{cipher_bits}", "256"))
    assert macros(codes.HELO, Context(SESSION), SETTINGS, {}) == ()


def test_client_ptr_and_client_resolve_tell_a_forged_name_as_postfix_does():
    forged = Session(client_address="192.0.2.1", client_name="unknown", reverse_client_name="forged.example",
                     client_name_status="FORGED", reverse_client_name_status="OK")
    own = {int(codes.Stage.CONNECT): "{client_name} {client_ptr} {client_resolve}"}
    assert macros(codes.CONNECT, Context(forged), SETTINGS, own) == (
        ("{client_name}", "unknown"), ("{client_ptr}", "forged.example"), ("{client_resolve}", "FORGED"))
    assert macros(codes.CONNECT, Context(SESSION), SETTINGS, own)[1:] == (
        ("{client_ptr}", "client.example"), ("{client_resolve}", "OK"))
