"""virtual_alias_domains and virtual_alias_maps against a real Postfix 3.7 with the same main.cf: the RCPT, MAIL
and VRFY replies and smtpd's log lines (User unknown in virtual alias table, relay control, a listed address
valid whatever its class), and the recipients of the queue file (expanded, canonical, duplicates dropped, the
original kept), and cleanup's refusal when an expansion passes a limit."""

from __future__ import annotations

import re
import subprocess

import pytest

from filterd.queue.queuefile import QueueFile
from tests.harness import read_text, wait_until
from tests.integration.test_vrfy_etrn_vs_postfix import launcher, replies, servers, smtpd_lines  # noqa: F401

pytestmark = pytest.mark.integration

CHECKS_CF = {
    "mydestination": "local.example", "relay_domains": "relay.example", "mynetworks": "10.0.0.0/8",
    "virtual_alias_maps": "inline:{ virt.example=x, user@virt.example=someone@remote.example, "
                          "@catch.example=@local.example, alias@local.example=user@local.example, "
                          "team@relay.example=user@relay.example, sender@virt.example=x@remote.example }",
    "virtual_alias_domains": "$virtual_alias_maps, catch.example, explicit.example",
    "local_recipient_maps": "inline:{ user@local.example=1 }",
    "relay_recipient_maps": "inline:{ user@relay.example=1 }",
    "smtpd_sender_restrictions": "reject_unlisted_sender"}
CHECKS = ["EHLO client.example", "MAIL FROM:<nobody@virt.example>", "RCPT TO:<user@virt.example>", "RSET",
          "MAIL FROM:<sender@virt.example>",
          "RCPT TO:<user@virt.example>", "RCPT TO:<nobody@virt.example>", "RCPT TO:<Nobody@VIRT.example>",
          "RCPT TO:<x@catch.example>", "RCPT TO:<y@explicit.example>", "RCPT TO:<alias@local.example>",
          "RCPT TO:<nobody@local.example>", "RCPT TO:<team@relay.example>", "RCPT TO:<other@relay.example>",
          "RCPT TO:<u@sub.virt.example>", "RCPT TO:<a@remote.example>", "RCPT TO:<postmaster@virt.example>",
          "RCPT TO:<@route.example:user@virt.example>", "VRFY nobody@virt.example", "VRFY user@virt.example",
          "QUIT"]
"""From a stranger (mynetworks excludes 127.0.0.1): alias domains are authorized destinations, their unlisted
addresses refused (also as a sender), a listed address passes local and relay tables, no subdomain is one."""

CODES_CF = {"mynetworks": "10.0.0.0/8", "virtual_alias_domains": "virt.example",
            "virtual_alias_maps": "inline:{ user@virt.example=someone@remote.example }",
            "unknown_virtual_alias_reject_code": "554", "show_user_unknown_table_name": "no",
            "transport_maps": "inline:{ { virt.example = error:5.7.1 no way }, "
                              "{ remote.example = error:5.7.2 not there } }",
            "smtpd_recipient_restrictions": "permit_auth_destination, reject"}
CODES = ["EHLO client.example", "MAIL FROM:<s@example.org>", "RCPT TO:<nobody@virt.example>",
         "RCPT TO:<user@virt.example>", "RCPT TO:<a@remote.example>", "QUIT"]
"""The reject code and the table's name; transport_maps is not asked for the alias class (an address they list is
accepted, then routed by them)."""

OVERRIDE_CF = {**CHECKS_CF, "receive_override_options": "no_unknown_recipient_checks"}

RELOCATED_CF = {"mydestination": "local.example", "relay_domains": "relay.example", "recipient_delimiter": "+",
                "virtual_alias_domains": "virt.example", "unknown_virtual_alias_reject_code": "551",
                "virtual_alias_maps": "inline:{ kept@virt.example=someone@remote.example }",
                "relocated_maps": "inline:{ { old@local.example = new@other.example }, bare=bare@elsewhere.example, "
                                  "{ @gone.example = the new domain }, moved@virt.example=x@y.example, "
                                  "kept@virt.example=z@y.example, far@remote.example=near@remote.example }"}
RELOCATED = ["EHLO client.example", "MAIL FROM:<s@example.org>", "RCPT TO:<old@local.example>",
             "RCPT TO:<old+x@local.example>", "RCPT TO:<bare@local.example>", "RCPT TO:<bare@relay.example>",
             "RCPT TO:<anyone@gone.example>", "RCPT TO:<moved@virt.example>", "RCPT TO:<kept@virt.example>",
             "RCPT TO:<far@remote.example>", "VRFY old@local.example", "RSET", "MAIL FROM:<old@local.example>",
             "RCPT TO:<user@relay.example>", "QUIT"]
"""relocated_maps whatever the class (an alias domain's with its code), after the extension is stripped; an address
virtual_alias_maps lists is accepted first."""


MAILBOX_CF = {"mydestination": "local.example", "relay_domains": "relay.example", "mynetworks": "10.0.0.0/8",
              "recipient_delimiter": "+", "virtual_mailbox_domains": "$virtual_mailbox_maps, listed.example",
              "virtual_mailbox_maps": "inline:{ box.example=x, user@box.example=box.example/user/, "
                                      "@catch.example=catch/ }",
              "virtual_alias_maps": "inline:{ alias@listed.example=user@box.example }",
              "unknown_virtual_mailbox_reject_code": "551",
              "transport_maps": "inline:{ { listed.example = error:5.3.0 listed is closed } }",
              "smtpd_sender_restrictions": "reject_unlisted_sender"}
MAILBOX = ["EHLO client.example", "MAIL FROM:<nobody@box.example>", "RCPT TO:<user@box.example>", "RSET",
           "MAIL FROM:<user@box.example>", "RCPT TO:<user@box.example>", "RCPT TO:<user+x@box.example>",
           "RCPT TO:<nobody@box.example>", "RCPT TO:<any@catch.example>", "RCPT TO:<u@sub.box.example>",
           "RCPT TO:<someone@listed.example>", "RCPT TO:<alias@listed.example>", "VRFY nobody@box.example", "QUIT"]
"""virtual_mailbox_domains (from its table's domain keys, and named): its unlisted addresses refused with their code
(also as a sender), authorized for relaying, transport_maps asked for the class, virtual_alias_maps first."""


@pytest.mark.parametrize("settings, commands", [(CHECKS_CF, CHECKS), (CODES_CF, CODES), (OVERRIDE_CF, CHECKS),
                                                (RELOCATED_CF, RELOCATED), (MAILBOX_CF, MAILBOX)],
                         ids=["checks", "codes", "no-unknown-recipient-checks", "relocated", "virtual-mailbox"])
def test_recipients_of_virtual_alias_domains_are_refused_as_postfix_refuses_them(launcher, settings, commands):
    postfix, filterd = servers(launcher, settings)
    assert replies(filterd.port, commands) == replies(postfix.port, commands)
    assert smtpd_lines(filterd.log_path) == smtpd_lines(postfix.maillog_path)


EXPANSION_CF = {
    "myorigin": "origin.example", "smtpd_sender_restrictions": "check_sender_access inline:{s@example.org=HOLD}",
    "virtual_alias_domains": "virt.example, catch.example",
    "virtual_alias_maps": "inline:{ { list@virt.example = a@remote.example, b@remote.example, nested@virt.example }, "
                          "nested@virt.example=c@remote.example, "
                          "{ self@virt.example = Self@virt.example, other@remote.example }, "
                          "@catch.example=@remote.example, bare@virt.example=localuser, "
                          "dup@virt.example=a@remote.example, routed@virt.example=d%remote.example@origin.example }"}
EXPANSION = ["EHLO client.example", "MAIL FROM:<s@example.org>", "RCPT TO:<list@virt.example>",
             "RCPT TO:<self@virt.example>", "RCPT TO:<X@catch.example>", "RCPT TO:<bare@virt.example>",
             "RCPT TO:<dup@virt.example>", "RCPT TO:<a@remote.example>", "RCPT TO:<routed@virt.example>",
             "RCPT TO:<list@virt.example>", "DATA", "Subject: aliases\r\n\r\nbody\r\n.", "QUIT"]


def test_recipients_are_expanded_into_the_queue_file_as_postfix_s_cleanup_expands_them(launcher):  # noqa: F811
    postfix, filterd = servers(launcher, EXPANSION_CF)
    assert queued_alike(replies(filterd.port, EXPANSION)) == queued_alike(replies(postfix.port, EXPANSION))
    [held] = [path for path in (postfix.directory / "queue" / "hold").rglob("*") if path.is_file()]
    [queued] = (filterd.directory / "queue" / "hold").iterdir()
    mine = [(r.orig or r.address, r.address) for r in QueueFile.read(str(queued)).envelope.recipients]
    assert mine == postfix_recipients(postfix, held.name)
    assert len(mine) == 10


LIMITS = [{"virtual_alias_expansion_limit": "2"}, {"virtual_alias_recursion_limit": "1"},
          {"virtual_alias_address_length_limit": "15"}]


@pytest.mark.parametrize("limit", LIMITS, ids=["expansion", "recursion", "length"])
def test_an_expansion_past_a_limit_is_refused_with_cleanup_s_reply_and_warning(launcher, limit):  # noqa: F811
    postfix, filterd = servers(launcher, {**EXPANSION_CF, **limit})
    commands = [*EXPANSION[:3], *EXPANSION[-3:]]
    mine = replies(filterd.port, commands)
    assert mine == replies(postfix.port, commands)
    assert mine[-2][-1] == "451 4.6.0 Alias expansion error"
    assert cleanup_warnings(filterd.log_path) == cleanup_warnings(postfix.maillog_path)
    assert not [path for path in (filterd.directory / "queue").rglob("*") if path.is_file() and "mailboxes" not in
                str(path) and path.parent.name in ("incoming", "active", "hold", "deferred")]


def queued_alike(answers: list[list[str]]) -> list[list[str]]:
    return [[re.sub(r"queued as \S+", "queued as QID", line) for line in lines] for lines in answers]


def postfix_recipients(postfix, queue_id: str) -> list[tuple[str, str]]:
    """(original_recipient, recipient) of each recipient record, as postcat prints them."""
    text = subprocess.run(["postcat", "-c", str(postfix.config_dir), "-q", queue_id], capture_output=True, text=True,
                          check=True).stdout
    originals = re.findall(r"^original_recipient: (.*)$", text, re.M)
    recipients = re.findall(r"^recipient: (.*)$", text, re.M)
    return list(zip(originals, recipients, strict=True))


def cleanup_warnings(path) -> list[str]:
    wait_until(lambda: "unreasonable" in read_text(path), 10, f"cleanup's warning in {path}")
    return [re.sub(r"^[0-9A-Za-z]+: ", "QID: ", line.split("warning: ", 1)[1])
            for line in read_text(path).splitlines() if "/cleanup[" in line and "warning: " in line]
