"""reject_plaintext_session before and after STARTTLS, against a real Postfix 3.7 with the same certificate and
main.cf: the replies, and smtpd's log lines (the reject line, the TLS line, the session summary)."""

from __future__ import annotations

import pytest

from tests.certificates import make_certificate
from tests.integration.test_tls_vs_postfix import converse
from tests.integration.test_vrfy_etrn_vs_postfix import launcher, servers, smtpd_lines  # noqa: F401

pytestmark = pytest.mark.integration

STEPS = ["EHLO client.example", "MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>", "RSET", "STARTTLS", "TLS",
         "EHLO client.example", "MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>", "RSET", "QUIT"]


def test_a_plaintext_session_is_refused_as_postfix_refuses_it(launcher):  # noqa: F811
    cert, key = make_certificate(launcher.root / "certs", "localhost")
    postfix, filterd = servers(launcher, {
        "smtpd_tls_security_level": "may", "smtpd_tls_cert_file": str(cert), "smtpd_tls_key_file": str(key),
        "smtpd_tls_loglevel": "1", "smtpd_recipient_restrictions": "reject_plaintext_session",
        "plaintext_reject_code": "550"})
    theirs = [reply.replace("postfix.test", "filterd.test") for reply in converse(postfix.port, STEPS)]
    ours = converse(filterd.port, STEPS)
    assert ours == theirs
    assert ours[2] == "550 5.7.1 Session encryption is required" and ours[8] == "250 2.1.5 Ok"
    assert smtpd_lines(filterd.log_path) == smtpd_lines(postfix.maillog_path)
