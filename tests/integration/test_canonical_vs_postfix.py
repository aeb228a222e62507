"""canonical_maps, sender_canonical_maps and recipient_canonical_maps against a real Postfix 3.7 with the same
main.cf: the addresses smtpd takes as valid because a table lists them (replies and log lines), and the envelope
sender and recipients of the queue file, with cleanup's warnings."""

from __future__ import annotations

import re
import subprocess

import pytest

from filterd.queue.queuefile import QueueFile
from tests.harness import read_text, wait_until
from tests.integration.test_virtual_alias_vs_postfix import postfix_recipients, queued_alike
from tests.integration.test_vrfy_etrn_vs_postfix import launcher, replies, servers, smtpd_lines  # noqa: F401

pytestmark = pytest.mark.integration

CHECKS_CF = {"mydestination": "local.example", "local_recipient_maps": "inline:{ user@local.example=1 }",
             "canonical_maps": "inline:{ common@local.example=user@local.example }",
             "recipient_canonical_maps": "inline:{ rcpt@local.example=user@local.example }",
             "sender_canonical_maps": "inline:{ send@local.example=user@local.example }",
             "smtpd_sender_restrictions": "reject_unlisted_sender"}
CHECKS = ["EHLO client.example", "MAIL FROM:<send@local.example>", "RCPT TO:<common@local.example>",
          "RCPT TO:<rcpt@local.example>", "RCPT TO:<send@local.example>", "RCPT TO:<nobody@local.example>", "RSET",
          "MAIL FROM:<rcpt@local.example>", "RCPT TO:<user@local.example>", "QUIT"]
"""An address a canonical table lists is valid (sender_canonical_maps for the sender only)."""


def test_an_address_a_canonical_table_lists_is_valid_as_in_postfix(launcher):  # noqa: F811
    postfix, filterd = servers(launcher, CHECKS_CF)
    assert replies(filterd.port, CHECKS) == replies(postfix.port, CHECKS)
    assert smtpd_lines(filterd.log_path) == smtpd_lines(postfix.maillog_path)


REWRITE_CF = {
    "myorigin": "origin.example", "recipient_delimiter": "+",
    "smtpd_sender_restrictions": "check_sender_access inline:{ {alice@example.org=HOLD}, {a@old.example=HOLD}, "
                                 "{mailer-daemon@origin.example=HOLD} }",
    "sender_canonical_maps": "inline:{ alice@example.org=Alice.Smith@example.org }",
    "recipient_canonical_maps": "inline:{ bob@example.com=robert@example.com, { multi@example.com = m1@x.example, "
                                "m2@x.example } }",
    "canonical_maps": "inline:{ @old.example=@new.example, robert@example.com=rob@example.com, "
                      "loop1@example.com=loop2@example.com, loop2@example.com=loop1@example.com, "
                      "short@example.com=short, Alice.Smith@example.org=alice.smith@example.org }",
    "virtual_alias_maps": "inline:{ rob@example.com=rob@mail.example.com }"}
REWRITE = ["EHLO client.example", "MAIL FROM:<alice@example.org>", "RCPT TO:<bob@example.com>",
           "RCPT TO:<someone+x@old.example>", "RCPT TO:<multi@example.com>", "RCPT TO:<loop1@example.com>",
           "RCPT TO:<short@example.com>", "DATA", "Subject: canonical\r\n\r\nbody\r\n.", "RSET",
           "MAIL FROM:<a+tag@old.example>", "RCPT TO:<x@example.com>", "DATA", "Subject: sender\r\n\r\nbody\r\n.",
           "RSET", "MAIL FROM:<MAILER-DAEMON>", "RCPT TO:<x@example.com>", "DATA",
           "Subject: null\r\n\r\nbody\r\n.", "QUIT"]
"""Three held messages: the recipients rewritten, the sender rewritten, MAILER-DAEMON queued as the null sender."""


@pytest.mark.parametrize("classes", [{}, {"canonical_classes": "envelope_sender",
                                          "recipient_canonical_classes": "header_recipient"}], ids=["all", "classes"])
def test_the_envelope_is_rewritten_into_the_queue_file_as_postfix_s_cleanup_does(launcher, classes):  # noqa: F811
    postfix, filterd = servers(launcher, {**REWRITE_CF, **classes})
    assert queued_alike(replies(filterd.port, REWRITE)) == queued_alike(replies(postfix.port, REWRITE))
    assert_same_envelopes(postfix, filterd, 3)
    assert cleanup_warnings(filterd.log_path) == cleanup_warnings(postfix.maillog_path)


def assert_same_envelopes(postfix, filterd, count: int) -> None:
    """The held messages of both, in the order they came: the same sender and recipients (and originals)."""
    held = sorted((path for path in (postfix.directory / "queue" / "hold").rglob("*") if path.is_file()),
                  key=lambda p: p.stat().st_mtime)
    queued = sorted((filterd.directory / "queue" / "hold").iterdir(), key=lambda p: p.stat().st_mtime)
    assert len(held) == len(queued) == count
    for theirs, mine in zip(held, queued):
        envelope = QueueFile.read(str(mine)).envelope
        assert [(r.orig or r.address, r.address) for r in envelope.recipients] == postfix_recipients(postfix,
                                                                                                    theirs.name)
        assert envelope.sender == postfix_sender(postfix, theirs.name)


def postfix_sender(postfix, queue_id: str) -> str:
    text = subprocess.run(["postcat", "-c", str(postfix.config_dir), "-q", queue_id], capture_output=True, text=True,
                          check=True).stdout
    return re.search(r"^sender: (.*)$", text, re.M)[1]


def cleanup_warnings(path) -> list[str]:
    wait_until(lambda: read_text(path).count("/cleanup[") >= 2, 10, f"cleanup's lines in {path}")
    return [re.sub(r"^[0-9A-Za-z]+: ", "QID: ", line.split("warning: ", 1)[1])
            for line in read_text(path).splitlines() if "/cleanup[" in line and "warning: " in line]


BCC_CF = {"myorigin": "origin.example", "recipient_delimiter": "+",
          "smtpd_sender_restrictions": "check_sender_access inline:{ {alice@example.org=HOLD} }",
          "always_bcc": "archive", "sender_bcc_maps": "inline:{ @example.org=outgoing@example.net }",
          "recipient_bcc_maps": "inline:{ bob@example.com=bob-copy@example.net, dup@example.com=bob@example.com }",
          "recipient_canonical_maps": "inline:{ robert@example.com=bob@example.com }",
          "virtual_alias_maps": "inline:{ { archive@origin.example = a1@example.net, a2@example.net } }"}
BCC = ["EHLO client.example", "MAIL FROM:<alice@example.org>", "RCPT TO:<robert+x@example.com>",
       "RCPT TO:<dup@example.com>", "RCPT TO:<carol@example.com>", "DATA", "Subject: bcc\r\n\r\nbody\r\n.", "QUIT"]


@pytest.mark.parametrize("override", [{}, {"receive_override_options": "no_address_mappings"}],
                         ids=["mapped", "no-address-mappings"])
def test_automatic_blind_copies_are_added_where_postfix_s_cleanup_adds_them(launcher, override):  # noqa: F811
    """The sender's copy first, a recipient's after it (found through the canonical address, extension stripped),
    always_bcc last and virtual-aliased; none with no_address_mappings."""
    postfix, filterd = servers(launcher, {**BCC_CF, **override})
    assert queued_alike(replies(filterd.port, BCC)) == queued_alike(replies(postfix.port, BCC))
    [held] = [path for path in (postfix.directory / "queue" / "hold").rglob("*") if path.is_file()]
    [queued] = (filterd.directory / "queue" / "hold").iterdir()
    mine = [(r.orig or r.address, r.address) for r in QueueFile.read(str(queued)).envelope.recipients]
    assert mine == postfix_recipients(postfix, held.name)
    assert len(mine) == (3 if override else 8)


MASQUERADE_CF = {"smtpd_sender_restrictions": "check_sender_access inline:{ {host.example.com=HOLD} }",
                 "masquerade_domains": "!keep.example.com, example.com", "masquerade_exceptions": "root",
                 "canonical_maps": "inline:{ alias@example.org=who@deep.host.example.com }"}
MASQUERADE = ["EHLO client.example", "MAIL FROM:<user@host.example.com>", "RCPT TO:<a@mx.example.com>",
              "RCPT TO:<root@mx.example.com>", "RCPT TO:<b@x.keep.example.com>", "RCPT TO:<alias@example.org>", "DATA",
              "Subject: masquerade\r\n\r\nbody\r\n.", "RSET", "MAIL FROM:<root@host.example.com>",
              "RCPT TO:<c@example.com>", "DATA", "Subject: root\r\n\r\nbody\r\n.", "QUIT"]


@pytest.mark.parametrize("classes", [{}, {"masquerade_classes": "envelope_recipient, envelope_sender"}],
                         ids=["default-classes", "envelope-recipients-too"])
def test_envelope_addresses_are_masqueraded_as_postfix_s_cleanup_does(launcher, classes):  # noqa: F811
    postfix, filterd = servers(launcher, {**MASQUERADE_CF, **classes})
    assert queued_alike(replies(filterd.port, MASQUERADE)) == queued_alike(replies(postfix.port, MASQUERADE))
    assert_same_envelopes(postfix, filterd, 2)
