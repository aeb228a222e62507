"""recipient_delimiter against a real Postfix 3.7 with the same main.cf: user+foo@domain looked up as itself, then
as user@domain, in the recipient tables, virtual_alias_maps, access tables and smtpd_sender_login_maps' kin (the
replies and smtpd's log lines), the local parts that never have an extension, and the extension given back to
each address an alias expands to in the queue file."""

from __future__ import annotations

import pytest

from filterd.queue.queuefile import QueueFile
from tests.integration.test_virtual_alias_vs_postfix import postfix_recipients, queued_alike
from tests.integration.test_vrfy_etrn_vs_postfix import launcher, replies, servers, smtpd_lines  # noqa: F401

pytestmark = pytest.mark.integration

LOOKUPS_CF = {
    "mydestination": "local.example", "relay_domains": "relay.example", "mynetworks": "10.0.0.0/8",
    "recipient_delimiter": "+-", "myorigin": "origin.example",
    "local_recipient_maps": "inline:{ user@local.example=1, bare=1, owner-list=1, exact+x@local.example=1 }",
    "relay_recipient_maps": "inline:{ user@relay.example=1 }, pcre:{ {/^re@relay\\.example/ 1} }",
    "virtual_alias_domains": "virt.example",
    "virtual_alias_maps": "inline:{ team@virt.example=user@relay.example }",
    "smtpd_recipient_restrictions": "check_recipient_access inline:{ blocked@relay.example=REJECT, "
                                    "{ who@ = REJECT no who } }, permit_auth_destination, reject"}
LOOKUPS = ["EHLO client.example", "MAIL FROM:<s@example.org>", "RCPT TO:<user+foo@local.example>",
           "RCPT TO:<user-foo+bar@local.example>", "RCPT TO:<bare+x@local.example>", "RCPT TO:<nobody+x@local.example>",
           "RCPT TO:<owner-list@local.example>", "RCPT TO:<exact+x@local.example>", "RCPT TO:<exact+y@local.example>",
           "RCPT TO:<postmaster+x@local.example>", "RCPT TO:<user+foo@relay.example>",
           "RCPT TO:<re+x@relay.example>", "RCPT TO:<team+x@virt.example>", "RCPT TO:<blocked+x@relay.example>",
           "RCPT TO:<who+x@relay.example>", "RCPT TO:<+x@local.example>", "VRFY nobody+x@local.example", "QUIT"]
"""The full address first, then user@domain of fixed-string tables only (not the pcre one), the local part with
and without its extension in a local domain, postmaster and owner-list never split, access tables' user@domain and
user@ keys."""


@pytest.mark.parametrize("delimiter", ["+-", "+"])
def test_an_extension_is_stripped_to_look_an_address_up_as_postfix_strips_it(launcher, delimiter):  # noqa: F811
    postfix, filterd = servers(launcher, {**LOOKUPS_CF, "recipient_delimiter": delimiter})
    assert replies(filterd.port, LOOKUPS) == replies(postfix.port, LOOKUPS)
    assert smtpd_lines(filterd.log_path) == smtpd_lines(postfix.maillog_path)


EXPANSION_CF = {"myorigin": "origin.example", "recipient_delimiter": "+",
                "smtpd_sender_restrictions": "check_sender_access inline:{s@example.org=HOLD}",
                "virtual_alias_domains": "virt.example",
                "virtual_alias_maps": "inline:{ { list@virt.example = a@remote.example, b }, "
                                      "@catch.example=@remote.example, exact+x@virt.example=x@remote.example }"}
EXPANSION = ["EHLO client.example", "MAIL FROM:<s@example.org>", "RCPT TO:<list+tag@virt.example>",
             "RCPT TO:<who+tag@catch.example>", "RCPT TO:<exact+x@virt.example>", "DATA",
             "Subject: extensions\r\n\r\nbody\r\n.", "QUIT"]


@pytest.mark.parametrize("propagate", ["canonical, virtual", "canonical"])
def test_the_extension_goes_to_each_address_an_alias_expands_to(launcher, propagate):  # noqa: F811
    postfix, filterd = servers(launcher, {**EXPANSION_CF, "propagate_unmatched_extensions": propagate})
    assert queued_alike(replies(filterd.port, EXPANSION)) == queued_alike(replies(postfix.port, EXPANSION))
    [held] = [path for path in (postfix.directory / "queue" / "hold").rglob("*") if path.is_file()]
    [queued] = (filterd.directory / "queue" / "hold").iterdir()
    mine = [(r.orig or r.address, r.address) for r in QueueFile.read(str(queued)).envelope.recipients]
    assert mine == postfix_recipients(postfix, held.name)
    assert ("list+tag@virt.example", "a+tag@remote.example" if "virtual" in propagate else "a@remote.example") in mine
