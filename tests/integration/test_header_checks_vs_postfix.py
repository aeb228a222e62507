"""header_checks(5) end to end: the same tables in a real Postfix and in filterd, the same corpus through both.

One Postfix relay and one filterd proxy (each delivering to its own smtp-sink) get the same
header_checks, mime_header_checks, nested_header_checks and body_checks tables (the starter
tables of conf/header_checks/ included) and the same 100+ messages: plain, multipart, nested message/rfc822 and
multipart/digest, folded and RFC 2047 encoded headers, dangerous attachment names, long lines.
For each message the reply, the fate (delivered to whom, held, discarded, filtered) and cleanup's
log lines must be the same, and so must the delivered message, except for the Received header
each MTA adds for itself (the first header: its host name, queue id and time differ by nature).
A HOLD sends Postfix's copy to the hold queue while filterd's proxy, which has no queue, logs it
and relays the message: both count as held. The last tests run the plugin in filterd's other front
ends, relay mode and milter.
"""

from __future__ import annotations

import json
import re
import shutil
import smtplib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import require_programs
from tests.harness import (CLIENT, FilterdProcess, Postfix, SmtpSink, free_port, make_workdir, wait_until,
                           without_own_received)
from tests.plugins.header_checks.corpus import (CORPUS, RECIPIENTS, TABLES, message, multipart, pcre_settings, sender,
                                          text_part)

BAD_RULES = "/^Subject: (.*)mark(.*)/ REPLACE Subject: [marked] $1mark$2\n/^Subject: a(/ REJECT\n/a/q x\n"
STARTER_TABLES = Path(__file__).resolve().parents[2] / "conf" / "header_checks"
HELO = "client.example"
ACTION_LINE = re.compile(r"/cleanup\[\d+\]: (?P<qid>\w+): (?P<text>(?:reject|warning|info|hold|discard|redirect|"
                         r"filter|bcc|pass|strip|prepend|replace): .*)$")
CLIENT_LINE = re.compile(r"/smtpd\[\d+\]: (?P<qid>\w+): client=")
WARNING_LINE = re.compile(r"/cleanup\[\d+\]: (?P<text>warning: .*(?:_checks|DSN action).*)$")


@dataclass
class Fate:
    """What one system did with one message."""

    reply: str
    log: list[str] = field(default_factory=list)
    recipients: list[str] | None = None
    content: bytes | None = None

    @property
    def held(self) -> bool:
        return any(line.startswith("hold: ") for line in self.log)


def write_tables(directory: Path, filter_port: int) -> dict[str, str]:
    """The four parameters, each a list of pcre tables: conf/header_checks/'s table first where there is one."""
    tables = {name: text.replace("{filter_port}", str(filter_port)) for name, text in TABLES.items()}
    settings = pcre_settings(directory, tables)
    for name in settings:
        starter = STARTER_TABLES / f"{name}.pcre"
        if starter.exists():
            settings[name] = f"pcre:{starter}, {settings[name]}"
    return settings


def send_all(port: int) -> list[str]:
    """Send the corpus in one session; the reply to each message's end of data (250 alone: its text
    is the queue id, and filterd's proxy passes on the next hop's)."""
    replies = []
    with smtplib.SMTP("127.0.0.1", port, local_hostname=HELO, timeout=60) as client:
        client.ehlo()
        for number, message in enumerate(CORPUS):
            replies.append(send_one(client, number, message))
    return replies


def send_one(client: smtplib.SMTP, number: int, message: bytes) -> str:
    """One transaction: MAIL, both RCPTs, DATA; the final reply."""
    client.mail(sender(number))
    for rcpt in RECIPIENTS:
        client.rcpt(rcpt)
    try:
        code, text = client.data(message)
    except smtplib.SMTPDataError as refused:
        code, text = refused.smtp_code, refused.smtp_error
        client.rset()
    return str(code) if code == 250 else f"{code} {text.decode()}"


def log_by_message(log: str) -> list[list[str]]:
    """cleanup's action lines for each message, in sending order (smtpd logs client= once per message)."""
    qids = [m["qid"] for m in map(CLIENT_LINE.search, log.splitlines()) if m]
    lines: dict[str, list[str]] = {qid: [] for qid in qids}
    for found in filter(None, map(ACTION_LINE.search, log.splitlines())):
        lines.setdefault(found["qid"], []).append(found["text"])
    return [lines[qid] for qid in qids]


def delivered(*sinks: SmtpSink) -> dict[str, tuple[list[str], bytes]]:
    """Each delivered message by its envelope sender: the sorted recipients and the content."""
    found = {}
    for sink in sinks:
        for dump in sink.dumps():
            found[dump.sender] = (sorted(dump.recipients), without_own_received(dump.content))
    return found


def fates(replies: list[str], log: str, messages: dict[str, tuple[list[str], bytes]]) -> list[Fate]:
    """Each message's fate from its reply, its cleanup log lines and its delivery, in sending order."""
    logs = log_by_message(log)
    assert len(logs) == len(replies), f"{len(logs)} transactions logged for {len(replies)} messages"
    result = []
    for number, (reply, lines) in enumerate(zip(replies, logs)):
        recipients, content = messages.get(sender(number), (None, None))
        result.append(Fate(reply, lines, recipients, content))
    return result


def queues(postfix: Postfix) -> list[str]:
    """The queue of each message Postfix still has (postqueue -j)."""
    listing = subprocess.run(["postqueue", "-c", str(postfix.config_dir), "-j"], capture_output=True,
                             text=True, stdin=subprocess.DEVNULL).stdout
    return [json.loads(line)["queue_name"] for line in listing.splitlines()]


@dataclass
class Runs:
    """What each system did with the corpus."""

    postfix: list[Fate]
    filterd: list[Fate]
    postfix_warnings: list[str]
    filterd_warnings: list[str]
    hold_queue: int


@pytest.fixture(scope="module")
def runs(request):
    """Both systems, the corpus sent through each; the work directory is kept if a test fails."""
    require_programs()
    workdir = make_workdir("filterd-hc-vs-postfix-")
    failed, services = request.session.testsfailed, []
    try:
        yield run_both(workdir, services)
    finally:
        for service in reversed(services):
            service.stop()
    if request.session.testsfailed == failed:
        shutil.rmtree(workdir, ignore_errors=True)


def cleanup_warnings(log: str) -> list[str]:
    """cleanup's warnings about table results (they name no queue id), in order; not the others,
    such as Postfix's about the clock, which a loaded machine provokes."""
    return [found["text"] for found in map(WARNING_LINE.search, log.splitlines()) if found]


def run_both(workdir: Path, services: list) -> Runs:
    """Start both systems, send them the corpus, collect what each did (services: to stop afterwards)."""
    def start(service):
        """Start a service, remembered for the teardown."""
        services.append(service)
        return service.start()

    postfix_sink, filter_sink, filterd_sink = (start(SmtpSink(workdir / name))
                                               for name in ("sink-postfix", "sink-filter", "sink-filterd"))
    settings = write_tables(workdir, filter_sink.port)
    postfix = start(Postfix.relay(workdir / "postfix", postfix_sink.port, settings))
    filterd = start(FilterdProcess(workdir / "filterd", {**settings, "filterd_plugins": "header_checks"},
                                   nexthop_port=filterd_sink.port))
    postfix_replies, filterd_replies = send_all(postfix.port), send_all(filterd.port)
    wait_until(lambda: set(queues(postfix)) <= {"hold"}, 60, "Postfix to deliver everything it accepted")
    return Runs(fates(postfix_replies, postfix.maillog(), delivered(postfix_sink, filter_sink)),
                fates(filterd_replies, filterd.log(), delivered(filterd_sink)),
                cleanup_warnings(postfix.maillog()), cleanup_warnings(filterd.log()), queues(postfix).count("hold"))


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 100


@pytest.mark.integration
@pytest.mark.parametrize("number", range(len(CORPUS)))
def test_same_fate_log_and_delivered_message(runs, number):
    expected, got = runs.postfix[number], runs.filterd[number]
    assert got.reply == expected.reply
    assert got.log == expected.log
    assert got.held == expected.held
    if expected.held:
        return
    assert got.recipients == expected.recipients
    assert got.content == expected.content


@pytest.mark.integration
def test_postfix_held_what_both_logged_as_held(runs):
    held = [sum(fate.held for fate in fates) for fates in (runs.postfix, runs.filterd)]
    assert runs.hold_queue == held[0] == held[1] > 0


@pytest.mark.integration
def test_same_warnings_about_table_results(runs):
    assert runs.filterd_warnings == runs.postfix_warnings
    assert len(runs.postfix_warnings) >= 4


@pytest.mark.integration
def test_every_action_was_exercised(runs):
    words = {line.split(":", 1)[0] for fate in runs.postfix for line in fate.log}
    assert words == {"reject", "warning", "info", "hold", "discard", "redirect", "filter", "bcc", "pass",
                     "strip", "prepend", "replace"}
    replies = {fate.reply[:1] for fate in runs.postfix}
    assert replies == {"2", "4", "5"}


# The same plugin behind the other front ends: the hook chain alone carries it.

FRONT_END_MESSAGES = {
    "reject": message("please reject-me now"),
    "hold": message("please hold-me now"),
    "edits": multipart("edits", [text_part("keep\nbody-replace the old line\n", "X-Part-Ignore: a\n b\n")]),
}


def send_front_end(port: int, name: str) -> str:
    """One of FRONT_END_MESSAGES in a session of its own; the final reply."""
    with smtplib.SMTP("127.0.0.1", port, local_hostname=HELO, timeout=60) as client:
        client.ehlo()
        return send_one(client, 0, FRONT_END_MESSAGES[name].replace("\n", "\r\n").encode())


def check_front_end(port: int, sink: SmtpSink, held: Callable[[], int], log: Callable[[], str]) -> None:
    """A REJECT, a HOLD and edits on a folded part header and a body line, through one front end."""
    assert send_front_end(port, "reject") == "550 5.7.1 Subject refused by policy"
    assert f"reject: header Subject: please reject-me now from {CLIENT};" in log()
    assert send_front_end(port, "hold") == "250"
    wait_until(held, 30, "a message in the hold queue")
    assert send_front_end(port, "edits") == "250"
    [dump] = sink.wait_for(1, timeout=30)
    assert b"replaced: the old line\n" in dump and b"X-Part-Ignore" not in dump and b"\n b\n" not in dump


@pytest.mark.integration
def test_in_relay_mode(filterd_factory, smtp_sink, tmp_path):
    port = free_port()
    settings = {**write_tables(tmp_path, free_port()), "filterd_plugins": "header_checks",
                "filterd_listeners": f"relay:127.0.0.1:{port}", "relayhost": f"[127.0.0.1]:{smtp_sink.port}",
                "smtp_dns_support_level": "disabled", "queue_run_delay": "1s"}
    relay = filterd_factory(settings, port=port)
    hold = relay.directory / "queue" / "hold"
    check_front_end(port, smtp_sink, lambda: hold.exists() and any(hold.iterdir()), relay.log)


@pytest.mark.integration
def test_as_a_milter_for_postfix(filterd_factory, postfix_factory, smtp_sink, tmp_path):
    port = free_port()
    filterd = filterd_factory({**write_tables(tmp_path, free_port()), "filterd_plugins": "header_checks",
                               "filterd_listeners": f"milter:inet:127.0.0.1:{port}"}, port=port)
    postfix = postfix_factory.relay(smtp_sink.port, {"smtpd_milters": f"inet:127.0.0.1:{port}",
                                                     "milter_default_action": "tempfail"})
    hold = postfix.directory / "queue" / "hold"
    check_front_end(postfix.port, smtp_sink, lambda: hold.exists() and any(hold.iterdir()), filterd.log)


# Tables with rules Postfix skips: the same warnings in the same log, and the rest of each table in force.

TABLE_WARNING = re.compile(r"/cleanup\[\d+\]: (warning: \S+ map .*)$", re.M)


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["regexp", "pcre"])
def test_rules_postfix_skips_are_skipped_with_the_same_warnings(filterd_factory, postfix_factory, smtp_sink,
                                                                tmp_path, kind):
    table = tmp_path / f"header_checks.{kind}"
    table.write_text(BAD_RULES + "/^Subject: .*reject-me/ REJECT the rule after\n")
    settings = {"header_checks": f"{kind}:{table}"}
    postfix = postfix_factory.relay(smtp_sink.port, settings)
    filterd = filterd_factory({**settings, "filterd_plugins": "header_checks"}, nexthop_port=smtp_sink.port)
    for system in (postfix, filterd):
        assert send_front_end(system.port, "reject") == "550 5.7.1 the rule after"
    expected = TABLE_WARNING.findall(postfix.maillog())
    assert len(expected) == 4 and TABLE_WARNING.findall(filterd.log()) == expected
