"""access(5) tables in restrictions: the keys in Postfix's order, and every kind of result."""

from __future__ import annotations

import asyncio

import pytest

from filterd.policies.restrictions.access import client_keys, mail_keys, table_verdict
from filterd.policies.restrictions.domains import address_keys, domain_keys
from filterd.verdict import Action

from .checks import check, settings, verdict_at_rcpt


def test_domain_keys_with_and_without_parent_domain_matching():
    assert domain_keys("a.b.example", True) == ["a.b.example", "b.example", "example"]
    assert domain_keys("A.B.Example.", False) == ["a.b.example", ".b.example", ".example"]


def test_address_keys_shorten_by_octets_and_groups():
    assert address_keys("192.0.2.1") == ["192.0.2.1", "192.0.2", "192.0", "192"]
    assert address_keys("2001:db8::1") == ["2001:db8::1", "2001:db8", "2001"]


def test_client_keys_are_the_name_and_its_parents_then_the_address():
    asked = check(settings(), client="192.0.2.1", client_name="mx.client.example")
    assert client_keys(asked) == ["mx.client.example", "client.example", "example", "192.0.2.1", "192.0.2", "192.0",
                                  "192"]
    assert client_keys(check(settings(), client="192.0.2.1")) == ["192.0.2.1", "192.0.2", "192.0", "192"]


def test_mail_keys_are_the_address_its_domains_and_user_at():
    asked = check(settings())
    assert mail_keys(asked, "User@Sub.Example.com") == ["user@sub.example.com", "sub.example.com", "example.com",
                                                        "com", "user@"]
    assert mail_keys(asked, "") == ["<>"]
    assert mail_keys(check(settings(smtpd_null_access_lookup_key="<null>")), "") == ["<null>"]


def verdict(result: str, **values: str):
    return asyncio.run(table_verdict(check(settings(**values)), result, "a@sender.example", "Sender address"))


@pytest.mark.parametrize(("result", "reply"), [
    ("REJECT", (554, "5.7.1", "<a@sender.example>: Sender address rejected: Access denied")),
    ("reject Go away", (554, "5.7.1", "<a@sender.example>: Sender address rejected: Go away")),
    ("REJECT 5.7.9 Go away", (554, "5.7.9", "<a@sender.example>: Sender address rejected: Go away")),
    ("DEFER", (450, "4.7.1", "<a@sender.example>: Sender address rejected: Access denied")),
    ("450 4.7.9 Later", (450, "4.7.9", "<a@sender.example>: Sender address rejected: Later")),
    ("551 No luck", (551, "5.7.1", "<a@sender.example>: Sender address rejected: No luck")),
])
def test_refusals(result, reply):
    assert verdict(result).reply() == reply


def test_the_codes_of_reject_and_defer_are_parameters():
    assert verdict("REJECT", access_map_reject_code="550").code == 550
    assert verdict("DEFER", access_map_defer_code="421").code == 421


@pytest.mark.parametrize(("result", "action", "text"), [
    ("OK", Action.OK, ""), ("1234", Action.OK, ""),
    ("HOLD", Action.HOLD, "<a@sender.example>: Sender address triggers HOLD action"),
    ("DISCARD spam", Action.DISCARD, "<a@sender.example>: Sender address spam"),
    ("FILTER smtp:[127.0.0.1]:10025", Action.FILTER, "smtp:[127.0.0.1]:10025"),
    ("PREPEND X-Seen: yes", Action.PREPEND, "X-Seen: yes"),
    ("REDIRECT else@example.org", Action.REDIRECT, "else@example.org"),
    ("BCC archive@example.org", Action.BCC, "archive@example.org"),
    ("WARN odd", Action.WARN, "odd"), ("WARN", Action.WARN, ""), ("INFO seen it", Action.INFO, "seen it"),
])
def test_actions(result, action, text):
    found = verdict(result)
    assert (found.action, found.text) == (action, text)


def test_dunno_and_a_restriction_list_as_results():
    assert verdict("DUNNO") is None
    assert verdict("permit_mynetworks, reject").action is Action.REJECT
    assert verdict("no_such_restriction").reply() == (451, "4.3.5", "Server configuration error")


def test_the_first_key_with_an_answer_decides():
    answering = settings(smtpd_sender_restrictions="check_sender_access inline:{ sender.example=OK, "
                                                   "a@sender.example=REJECT, a@=DEFER }")
    assert verdict_at_rcpt(answering).action is Action.REJECT
    assert verdict_at_rcpt(answering, sender="a@other.example").action is Action.DEFER
    parents = settings(smtpd_sender_restrictions="check_sender_access inline:{ example=REJECT }")
    assert verdict_at_rcpt(parents, sender="b@deep.sender.example").action is Action.REJECT


def test_client_and_recipient_tables():
    clients = settings(smtpd_client_restrictions="check_client_access inline:{ 198.51.100=REJECT }")
    assert verdict_at_rcpt(clients).text == "<unknown[198.51.100.1]>: Client host rejected: Access denied"
    recipients = settings(smtpd_recipient_restrictions="check_recipient_access inline:{ {b@local.example=550 No} }")
    assert verdict_at_rcpt(recipients).reply() == (550, "5.7.1", "<b@local.example>: Recipient address rejected: No")
