"""check_sasl_access against a real Dovecot auth service, filterd beside a real Postfix 3.7 asking the same Dovecot
with the same restrictions: the same replies for clients logged in as listed and unlisted users and not logged in,
and the same reject lines."""

from __future__ import annotations

import contextlib
import re

import pytest

from tests.conftest import Launcher, require_programs
from tests.fixtures.dovecot import Dovecot
from tests.harness import FilterdProcess, MtaError, Postfix, SmtpSink, make_workdir, wait_until
from tests.integration.test_sasl_vs_postfix import PLAIN_OK, SASL, b64, dialogue

pytestmark = pytest.mark.integration

RESTRICTIONS = {"smtpd_recipient_restrictions": "check_sasl_access inline:{ {alice = REJECT not today}, "
                                                "{bob@example.org = 450 4.7.9 later} }, permit_sasl_authenticated, "
                                                "reject", "mynetworks": "192.0.2.0/24"}
SESSIONS = {
    "alice": [f"AUTH PLAIN {PLAIN_OK}", "MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>"],
    "bob": ["AUTH LOGIN", b64("bob@example.org"), b64("hunter2"), "MAIL FROM:<a@example.org>",
            "RCPT TO:<b@example.net>"],
    "nobody": ["MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>"],
}


@pytest.fixture(scope="module")
def servers():
    require_programs()
    launcher = Launcher(make_workdir("filterd-sasl-access-"))
    try:
        dovecot = launcher.launch(Dovecot(launcher.directory("dovecot")))
        sink = launcher.launch(SmtpSink(launcher.directory("sink")))
        postfix = launcher.launch(Postfix.relay(launcher.directory("postfix"), sink.port, {
            **SASL, **RESTRICTIONS, "smtpd_sasl_path": dovecot.inet_path}))
        filterd = launcher.launch(FilterdProcess(launcher.directory("filterd"), {
            **SASL, **RESTRICTIONS, "smtpd_sasl_path": dovecot.socket_path, "filterd_plugins": "restrictions"},
            nexthop_port=sink.port))
        yield postfix, filterd
    finally:
        launcher.stop_all()


def reject_lines(log: str, count: int) -> list[str]:
    lines = re.findall(r"NOQUEUE: reject: RCPT from [^:]*: .*", log)
    return sorted(lines) if len(lines) >= count else []


@pytest.mark.parametrize("name", SESSIONS)
def test_replies_are_postfix_s(servers, name):
    postfix, filterd = servers
    assert dialogue(filterd.port, *SESSIONS[name]) == dialogue(postfix.port, *SESSIONS[name])


def test_the_login_name_is_refused_as_postfix_refuses_it(servers):
    postfix, filterd = servers
    ours = [dialogue(filterd.port, *SESSIONS[name])[-2] for name in ("alice", "bob")]
    assert ours == [dialogue(postfix.port, *SESSIONS[name])[-2] for name in ("alice", "bob")]
    assert ours == ["554 5.7.1 <alice>: SASL login name rejected: not today",
                    "450 4.7.9 <bob@example.org>: SASL login name rejected: later"]
    with contextlib.suppress(MtaError):  # each log holds the module's earlier sessions' lines too, written late
        wait_until(lambda: reject_lines(postfix.maillog(), 2) == reject_lines(filterd.log(), 2) != [], 10,
                   "the same reject lines in both logs")
    assert reject_lines(filterd.log(), 2) == reject_lines(postfix.maillog(), 2)
