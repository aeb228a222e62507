"""One event script through both front ends, the SMTP handler and the milter handler (no sockets), the milter
side answered as Postfix would act on its responses (a refused CONNECT refuses each MAIL; modifications applied): both drive
filterd.lifecycle, so a verdict means the same on either wire. Each script's refusals (code, status, text), the
message's fate, the message and envelope as they leave, and the verdicts' log lines must be the same."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

import pytest

from filterd import Verdict, hookimpl
from filterd.chain import Chain
from filterd.edits import apply
from filterd.handoff import Reply
from filterd.milter.client.answers import ModificationRequests
from filterd.milter.protocol import commands as c
from filterd.milter.protocol import responses as r
from filterd.milter.server.handler import MilterHandler
from filterd.milter.server.settings import MilterSettings
from filterd.model import Message
from filterd.score import Scoring
from filterd.smtp.handler import SmtpHandler
from filterd.smtp.settings import SmtpSettings
from filterd.testing import load_plugins
from filterd.verdict import AddRecipient, ChangeSender, DeleteRecipient

CLIENT, CLIENT_NAME, HELO = "192.0.2.1", "client.example", "client.example"


class Recipients:
    """Refuses <bad@...>, discards on <drop@...>, archives <copy@...> messages with a BCC."""

    @hookimpl
    def rcpt(self, recipient):
        if recipient.startswith("bad@"):
            return Verdict.reject("5.1.1 <%s>: Recipient address rejected: unknown" % recipient)
        if recipient.startswith("drop@"):
            return Verdict.discard("dropped")
        if recipient.startswith("later@"):
            return Verdict.defer("4.2.0 try later")
        return Verdict.bcc("archive@example.net") if recipient.startswith("copy@") else None


class Content:
    """Acts on Subject: words and on body lines, as header_checks and body_checks would."""

    @hookimpl
    def connect(self, session):
        return Verdict.reject("5.7.1 you again", 554) if session.client_address == "192.0.2.66" else None

    @hookimpl
    def header(self, header):
        if header.name != "Subject":
            return None
        word = header.value.split()[0]
        return {"REJECTME": Verdict.reject("5.7.1 Subject refused"), "DEFERME": Verdict.defer("4.7.1 not now"),
                "HOLDME": Verdict.hold("suspicious"), "WARNME": Verdict.warn("odd subject"),
                "EDITME": Verdict.change_header("Subject", "[edited] " + header.value),
                "REDIRECTME": Verdict.redirect("abuse@example.net")}.get(word)

    @hookimpl
    def body(self, line):
        return Verdict.replace("[removed]") if b"secret" in line else None

    @hookimpl
    def end_of_message(self, envelope):
        return Verdict.add_header("X-Checked", f"{envelope.sender} {len(envelope.recipients)}")


def message(subject: str, body: str = "first line\r\nsecond line\r\n") -> bytes:
    return f"From: alice@example.org\r\nTo: bob@example.net\r\nSubject: {subject}\r\n\r\n{body}".encode()


@dataclass
class Run:
    """What one front end made of a script, in words both front ends share."""

    refusals: list[tuple] = field(default_factory=list)
    fates: list[str] = field(default_factory=list)
    messages: list[tuple] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


class RecordingNextHop:
    """Takes whatever the SMTP front end relays, as a next hop that says yes to everything."""

    relay, logs_delivery = "none", False

    def __init__(self, run: Run):
        self.run = run
        self.sender, self.recipients = "", []

    async def begin(self, session, envelope):
        self.sender, self.recipients = envelope.sender, []
        return Reply(250, "2.1.0 Ok")

    async def recipient(self, address, options):
        self.recipients.append(address)
        return Reply(250, "2.1.5 Ok")

    async def restart(self, sender, recipients):
        self.sender, self.recipients = sender, list(recipients)
        return Reply(250, "2.1.5 Ok")

    async def deliver(self, message, routing):
        received, *rest = message.headers
        assert received.name == "Received"
        data = b"".join(h.raw for h in rest) + b"\r\n" + message.body_bytes()
        self.run.messages.append((self.sender, tuple(self.recipients), data))
        self.run.fates.append(f"hold {routing.hold}" if routing.hold else "delivered")
        return Reply(250, "2.0.0 Ok: queued")

    async def abort(self, cut=None):
        pass


def smtp_reply(run: Run, step: tuple, reply: str | None, delivered: bool) -> None:
    """An SMTP reply in the shared words: a refusal's code, status and text; the end of a message's fate (a 250
    for a message that went nowhere: discarded)."""
    if reply is None or reply.startswith(("2", "3")):
        if step[0] == "message" and not delivered:
            run.fates.append("discarded")
        return
    code, dsn, text = reply.split(" ", 2)
    run.refusals.append((step[0], int(code), dsn, text))
    if step[0] == "message":
        run.fates.append("refused")


async def through_smtp(plugins: list, script: list, scoring: Scoring = Scoring()) -> Run:
    run = Run()
    handler = SmtpHandler(SmtpSettings(myhostname="filterd.test"), Chain(load_plugins(*plugins), scoring=scoring),
                          lambda: RecordingNextHop(run))
    handler.session.client_address, handler.session.client_name = script[0][2], script[0][1]
    await handler.on_connect()
    for step in script[1:]:
        kind, before = step[0], len(run.messages)
        if kind == "helo":
            reply = await handler.helo(step[1], extended=True)
        elif kind == "mail":
            reply = await handler.mail(step[1], [])
        elif kind == "rcpt":
            reply = await handler.rcpt(step[1], [])
        elif kind == "rset":
            reply = await handler.abort()
        else:
            reply = await handler.start_data()
            if reply is None:
                for line in (step[1] + b".\r\n").splitlines(keepends=True):
                    await handler.content(b"." + line if line.startswith(b".") and line != b".\r\n" else line)
                reply = await handler.end_of_data()
        smtp_reply(run, step, reply, len(run.messages) > before)
    await handler.on_disconnect("")
    return run


def milter_answer(run: Run, step: tuple, responses: list, pending: dict) -> None:
    """Milter responses in the shared words; at end of message the modifications applied as Postfix would."""
    decision = responses[-1] if responses else r.Continue()
    if isinstance(decision, r.ReplyCode):
        code, dsn, text = decision.text.split(" ", 2)
        run.refusals.append((step[0], int(code), dsn, text))
        if step[0] == "message":
            run.fates.append("refused")
        return
    if isinstance(decision, r.Discard):
        pending["discarded"] = True
    if step[0] != "message":
        return
    if pending.pop("discarded", False):
        run.fates.append("discarded")
        return
    held = [m for m in responses if isinstance(m, r.Quarantine)]
    run.fates.append(f"hold {held[0].reason}" if held else "delivered")
    run.messages.append(modified(step[1], pending, responses[:-1]))


def modified(data: bytes, pending: dict, requests: list) -> tuple:
    """The message and envelope after a milter's modification requests, as the MTA applies them."""
    original = Message.from_bytes(data)
    changes = ModificationRequests(original.headers, None, leading_space=True)
    for request in requests:
        if not isinstance(request, r.Quarantine):
            changes.add(request)
    edits = changes.finish()
    sender, recipients = pending["sender"], list(pending["recipients"])
    for edit in edits:
        if isinstance(edit, AddRecipient):
            recipients.append(edit.address)
        elif isinstance(edit, DeleteRecipient):
            recipients.remove(edit.address)
        elif isinstance(edit, ChangeSender):
            sender = edit.address
    out = apply(original, [e for e in edits if not isinstance(e, AddRecipient | DeleteRecipient | ChangeSender)])
    return sender, tuple(recipients), out.as_bytes()


def milter_commands(step: tuple) -> list:
    kind = step[0]
    if kind == "helo":
        return [c.Helo(step[1])]
    if kind == "mail":
        return [c.Mail((f"<{step[1]}>",))]
    if kind == "rcpt":
        return [c.Rcpt((f"<{step[1]}>",))]
    if kind == "rset":
        return [c.Abort()]
    parsed = Message.from_bytes(step[1])
    headers = [c.Header(h.name, h.raw.split(b":", 1)[1].decode().rstrip("\r\n")) for h in parsed.headers]
    return [c.Data(), *headers, c.EndOfHeaders(), c.Body(parsed.body_bytes()), c.EndOfBody()]


async def through_milter(plugins: list, script: list, scoring: Scoring = Scoring()) -> Run:
    run, pending = Run(), {"sender": "", "recipients": []}
    handler = MilterHandler(MilterSettings(), Chain(load_plugins(*plugins), scoring=scoring))
    await handler.handle(c.OptNeg(6, 0x1FF, 0x1FFFFF))
    [refused_client] = await handler.handle(c.Connect(script[0][1], "4", 4321, script[0][2]))
    for step in script[1:]:
        answers = [list(await handler.handle(command)) for command in milter_commands(step)]
        if isinstance(refused_client, r.ReplyCode) and step[0] == "mail":
            answers = [[refused_client]]  # Postfix refuses each MAIL with the milter's CONNECT reply
        refused = next((a for a in answers if a and isinstance(a[-1], r.ReplyCode)), None)
        if step[0] == "message" and refused is None:
            milter_answer(run, step, answers[-1], pending)
        else:
            milter_answer(run, step, refused or answers[-1], pending)
        remember(pending, step, refused)
    await handler.disconnect()
    return run


def remember(pending: dict, step: tuple, refused: list | None) -> None:
    """The envelope as the MTA keeps it: a new MAIL or RSET starts over, an accepted RCPT is added."""
    if step[0] in ("mail", "rset", "message"):
        pending["recipients"] = []
        pending["sender"] = step[1] if step[0] == "mail" and not refused else ""
    elif step[0] == "rcpt" and not refused:
        pending["recipients"].append(step[1])


VERDICT_LINE = re.compile(r"^(?:\S+): ((?:reject|reject_warning|discard|hold|warning|info|redirect|filter|bcc|pass|"
                          r"strip|prepend|replace): .*)$")


def verdict_lines(records: list) -> list[str]:
    """The log lines the lifecycle and the chain write (what front ends log of their own is left out)."""
    lines = []
    for record in records:
        match = VERDICT_LINE.match(record.getMessage())
        if match:
            lines.append(match.group(1))
    return lines


def both(plugins: list, script: list, filterd_log, scoring: Scoring = Scoring()) -> tuple[Run, Run]:
    filterd_log.clear()
    smtp = asyncio.run(through_smtp(plugins, script, scoring))
    smtp.log = verdict_lines(filterd_log.records)
    filterd_log.clear()
    milter = asyncio.run(through_milter(plugins, script, scoring))
    milter.log = verdict_lines(filterd_log.records)
    return smtp, milter


def session(*steps: tuple, client: tuple = ("connect", CLIENT_NAME, CLIENT)) -> list:
    return [client, ("helo", HELO), *steps]


SCRIPTS = {
    "accepted, with an edit": session(("mail", "alice@example.org"), ("rcpt", "bob@example.net"),
                                      ("message", message("hello"))),
    "a refused recipient refuses only itself": session(
        ("mail", "alice@example.org"), ("rcpt", "bad@example.net"), ("rcpt", "bob@example.net"),
        ("rcpt", "later@example.net"), ("message", message("hello"))),
    "header verdicts": session(*[step for subject in ("REJECTME now", "DEFERME please", "WARNME x", "EDITME this")
                                 for step in (("mail", "alice@example.org"), ("rcpt", "bob@example.net"),
                                              ("message", message(subject)))]),
    "hold": session(("mail", "alice@example.org"), ("rcpt", "bob@example.net"), ("message", message("HOLDME"))),
    "a body line replaced": session(("mail", "alice@example.org"), ("rcpt", "bob@example.net"),
                                    ("message", message("hi", "one\r\nthe secret line\r\nthree\r\n"))),
    "discard at rcpt": session(("mail", "alice@example.org"), ("rcpt", "drop@example.net"),
                               ("rcpt", "bob@example.net"), ("message", message("hello"))),
    "bcc and redirect change the envelope": session(
        ("mail", "alice@example.org"), ("rcpt", "copy@example.net"), ("message", message("hello")),
        ("mail", "alice@example.org"), ("rcpt", "bob@example.net"), ("message", message("REDIRECTME"))),
    "rset between transactions": session(("mail", "alice@example.org"), ("rcpt", "bob@example.net"), ("rset",),
                                         ("mail", "carol@example.org"), ("rcpt", "dave@example.net"),
                                         ("message", message("second"))),
    "a refused client": session(("mail", "alice@example.org"), ("mail", "carol@example.org"),
                                client=("connect", "bad.example", "192.0.2.66")),
}


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_same_script_gives_the_same_verdicts_messages_and_log_lines_in_both_front_ends(name, filterd_log):
    smtp, milter = both([Recipients(), Content()], SCRIPTS[name], filterd_log)
    assert smtp.refusals == milter.refusals
    assert smtp.fates == milter.fates
    assert smtp.messages == milter.messages
    assert smtp.log == milter.log


def test_the_scripts_cover_every_fate_and_refusals_at_each_stage(filterd_log):
    runs = [both([Recipients(), Content()], script, filterd_log)[0] for script in SCRIPTS.values()]
    fates = {fate.split()[0] for run in runs for fate in run.fates}
    stages = {refusal[0] for run in runs for refusal in run.refusals}
    assert fates == {"delivered", "refused", "discarded", "hold"}
    assert stages == {"mail", "rcpt", "message"}
    assert any("[removed]" in data.decode() for run in runs for _, _, data in run.messages)


class Scores:
    """Adds SCORE(n) for a Subject `score n`."""

    @hookimpl
    def header(self, header):
        words = header.value.split() if header.name == "Subject" else []
        return Verdict.symbol("SCORE", float(words[1])) if words[:1] == ["score"] else None


class NewFilter:
    """Refuses a Subject with `bad` in it; observed in SCORING."""

    @hookimpl
    def connect(self, session):
        return None

    @hookimpl
    def end_of_message(self, message):
        return Verdict.reject("5.7.1 bad, says the new filter") if "bad" in message.get("Subject", "") else None


SCORING = Scoring(add_header=5, hold=10, reject=20, observed=frozenset({"NewFilter"}))
SCORED = session(*[step for subject in ("score 1", "score 6", "score 12", "score 25", "score 2 bad")
                   for step in (("mail", "alice@example.org"), ("rcpt", "bob@example.net"),
                                ("message", message(subject)))])


def test_the_score_and_observe_mode_act_alike_in_both_front_ends(filterd_log):
    smtp, milter = both([Scores(), NewFilter()], SCORED, filterd_log, SCORING)
    assert smtp.fates == ["delivered", "delivered", "hold score 12", "refused", "delivered"]
    assert smtp.refusals == [("message", 550, "5.7.1", "Spam message rejected")]
    assert [b"X-Spam: Yes" in data for _, _, data in smtp.messages] == [False, True, True, False]
    assert b"X-Filterd-Score: add_header [6 / 20]; SCORE(6)[Scores]\r\n" in smtp.messages[1][2]
    assert any(line.startswith("reject_warning: END-OF-MESSAGE from client.example[192.0.2.1]: 550 5.7.1 bad, says")
               for line in smtp.log)
    assert (smtp.refusals, smtp.fates, smtp.messages, smtp.log) == (
        milter.refusals, milter.fates, milter.messages, milter.log)
