"""smtpd_reject_footer and smtpd_reject_footer_maps against a real Postfix 3.7 configured alike: every 4XX and 5XX
reply of the same session (a refused relay, an unknown command, a command out of order, a bad address) comes
back with the same footer lines, macros expanded the same way; an unknown macro expands to nothing, with Postfix's
warning."""

from __future__ import annotations

import pytest

from tests.conftest import launched
from tests.fixtures.dialogue import replies
from tests.harness import wait_until
from tests.integration.test_restrictions_vs_postfix import pair

FOOTER = ("\\c (ref $client_address)\\nContact postmaster@$server_name\\nhelo=${helo_name} from=$sender "
          "name=${sender_name} domain=${sender_domain} rcpt=$recipient ${sender?has a sender}${recipient:no rcpt} $$5")
SESSION = ["FOO", "RCPT TO:<b@local.example>", "MAIL FROM:<a@ok.example>", "RCPT TO:<b@foreign.example>",
           "RCPT TO:<b@local.example>", "RCPT TO:<c@foreign.example>", "RCPT TO:<x y>", "RSET", "MAIL FROM:<>",
           "RCPT TO:<d@foreign.example>", "QUIT"]
SETTINGS = {"smtpd_recipient_restrictions": "", "smtpd_relay_restrictions": "reject_unauth_destination",
            "smtpd_banner": "$myhostname ESMTP"}


@pytest.fixture(scope="module")
def servers():
    with launched("filterd-footer-") as launcher:
        maps = launcher.root / "footer_maps"
        maps.write_text("/^554 .*Relay access denied/ Relaying needs a login\n")
        yield {"footer": pair(launcher, "footer", {**SETTINGS, "smtpd_reject_footer": FOOTER}),
               "maps": pair(launcher, "maps", {**SETTINGS, "smtpd_reject_footer": "see $server_name",
                                               "smtpd_reject_footer_maps": f"regexp:{maps}"}),
               "unknown": pair(launcher, "unknown", {**SETTINGS, "smtpd_reject_footer": "call $nobody"})}


def converse(port: int) -> list[str]:
    """Every reply line to SESSION's commands (after EHLO's)."""
    return [line for lines in replies(port, SESSION) for line in lines]


@pytest.mark.parametrize("case", ["footer", "maps", "unknown"])
def test_the_footer_is_postfix_s(servers, case):
    postfix, filterd = servers[case]
    assert converse(filterd.port) == converse(postfix.port)


def test_the_footer_lines_and_macros(servers):
    postfix, filterd = servers["footer"]
    lines = converse(filterd.port)
    assert lines[:3] == ["500-5.5.2 Error: command not recognized (ref 127.0.0.1)", "500-5.5.2 Contact postmaster@HOST",
                         "500 5.5.2 helo=client.example from= name= domain= rcpt= no rcpt $5"]
    assert "554 5.7.1 helo=client.example from=a@ok.example name=a domain=ok.example rcpt=b@local.example has a " \
           "sender $5" in lines
    assert "554 5.7.1 helo=client.example from=<> name=<> domain= rcpt= has a senderno rcpt $5" in lines
    maps = converse(servers["maps"][1].port)
    assert "554 5.7.1 Relaying needs a login" in maps and "500 5.5.2 see HOST" in maps


def test_an_unknown_macro_is_warned_about_and_expands_to_nothing(servers):
    postfix, filterd = servers["unknown"]
    assert converse(filterd.port)[:2] == ["500-5.5.2 Error: command not recognized", "500 5.5.2 call "]
    for read in (postfix.maillog, filterd.log):
        wait_until(lambda: 'warning: unknown macro name "nobody" in expansion request' in read(), 10, "the warning")
