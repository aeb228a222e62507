"""The address headers of a message from a local client (local_header_rewrite_clients), rewritten as a real
Postfix 3.7's cleanup rewrites them: @$myorigin for a bare user, the canonical maps' and masquerading's header
classes, a rewritten header written again from its tokens and folded, an unchanged one kept as it came."""

from __future__ import annotations

import re
import subprocess

import pytest

from filterd.queue.queuefile import QueueFile
from tests.integration.test_vrfy_etrn_vs_postfix import launcher, replies, servers  # noqa: F401

pytestmark = pytest.mark.integration

HEADERS = [
    "From: Alice <alice>",
    "Sender: alice (the sender)",
    'Reply-To: "Smith, Bob" <bob> (comment), carol@remote.example',
    "To: bob, Carol <carol@remote.example>, dave",
    "Cc: undisclosed-recipients:;",
    "Cc: list: a, b@remote.example;",
    "Bcc: hidden",
    "To: " + ", ".join(f"user{n}" for n in range(12)),
    "Resent-To: <erin>",
    "X-Other: frank",
    "Subject: headers",
    "Return-Receipt-To: alice",
    "TO: mixed-case-name",
    "Cc: already@qualified.example",
    "To: root@host.sub.example.com, user@host.sub.example.com",
    'To: "quoted local"',
    "Errors-To: <@route.example:grace@remote.example>",
    "Reply-To: old@old.example",
]
SETTINGS = {"myorigin": "origin.example",
            "smtpd_sender_restrictions": "check_sender_access inline:{ {s@example.org=HOLD} }",
            "canonical_maps": "inline:{ @old.example=@new.example }",
            "recipient_canonical_maps": "inline:{ dave@origin.example=david@origin.example }",
            "masquerade_domains": "sub.example.com", "masquerade_exceptions": "root"}


@pytest.mark.parametrize("settings", [{}, {"receive_override_options": "no_address_mappings"},
                                      {"local_header_rewrite_clients": ""},
                                      {"local_header_rewrite_clients": "", "remote_header_rewrite_domain": "r.example"}],
                         ids=["local-client", "no-address-mappings", "not-rewritten", "remote-domain"])
def test_address_headers_are_rewritten_as_postfix_s_cleanup_rewrites_them(launcher, settings):  # noqa: F811
    postfix, filterd = servers(launcher, {**SETTINGS, **settings})
    message = "\r\n".join(HEADERS) + "\r\n\r\nbody\r\n."
    commands = ["EHLO client.example", "MAIL FROM:<s@example.org>", "RCPT TO:<x@remote.example>", "DATA", message,
                "QUIT"]
    replies(filterd.port, commands)
    replies(postfix.port, commands)
    [held] = [path for path in (postfix.directory / "queue" / "hold").rglob("*") if path.is_file()]
    [queued] = (filterd.directory / "queue" / "hold").iterdir()
    mine = header_lines(b"".join(QueueFile.read(str(queued)).content()).decode())
    assert mine == postfix_header_lines(postfix, held.name)
    assert len(mine) >= len(HEADERS) - 1 and not any(line.startswith("Bcc:") for line in mine)


def postfix_header_lines(postfix, queue_id: str) -> list[str]:
    text = subprocess.run(["postcat", "-h", "-c", str(postfix.config_dir), "-q", queue_id], capture_output=True,
                          text=True, check=True).stdout
    return header_lines(text)


SKIPPED = re.compile(r"^(received|(resent-)?message-id|(resent-)?date|\*\*\*)", re.I)


def header_lines(text: str) -> list[str]:
    """The header section's lines, without those that differ by nature (Received:, Message-ID:, Date:)."""
    lines, skipping = [], False
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line:
            break
        if line[0] in " \t":
            if not skipping:
                lines.append(line)
            continue
        skipping = bool(SKIPPED.match(line))
        if not skipping:
            lines.append(line)
    return lines
