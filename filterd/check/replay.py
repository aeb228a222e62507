"""`filterd check`: messages through the configured chain without sending them. For each, what every plugin said
at every hook, the outcome and the message as it would leave; after several, how many met each fate."""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, TextIO

from filterd.chain import Chain
from filterd.check.message_files import Item
from filterd.fatal import FatalError
from filterd.score import Scored, score
from filterd.simulate import Client, Connection, Outcome
from filterd.transaction import Call
from filterd.verdict import (Action, AddHeader, AddRecipient, ChangeHeader, ChangeSender, DeleteHeader,
                             DeleteRecipient, Edit, InsertHeader, Verdict)

EXIT_ACCEPTED, EXIT_FATAL, EXIT_REFUSED, EXIT_DIFFERENT = 0, 1, 3, 4
"""Every message accepted (or, with --against, none differs); a fatal error; some message rejected, deferred
or discarded; with --against, some message differs. argparse's usage errors are 2."""
DEFAULT_SENDER = "sender@example.org"
DEFAULT_RECIPIENT = "recipient@example.net"
FATES = ("accepted", "rejected", "deferred", "discarded", "held")
REFUSALS = ("rejected", "deferred", "discarded")


@dataclass(frozen=True)
class Options:
    """How the messages are sent: by which client, with which envelope, in how many sessions."""

    client: Client = Client()
    sender: str | None = None
    """-f; None for the mbox From_ line's sender, or sender@example.org."""
    recipients: tuple[str, ...] = (DEFAULT_RECIPIENT,)
    one_session: bool = False
    """--session: every message in one SMTP session, else a session (connect .. disconnect) per message."""

    def sender_of(self, item: Item) -> str:
        if self.sender is not None:
            return self.sender
        return item.sender if item.sender is not None else DEFAULT_SENDER


def client(address: str | None, name: str | None, helo: str | None, protocol: str | None) -> Client:
    """The client of -a, -n, -H and -p. Without -a it is localhost[127.0.0.1]; an address given without a name
    is `unknown`, as Postfix names a client whose address does not resolve."""
    if address is not None:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise FatalError(f"-a {address}: bad client address syntax") from None
    if protocol is not None and protocol.upper() not in ("SMTP", "ESMTP"):
        raise FatalError(f"-p {protocol}: the protocol is SMTP or ESMTP")
    default = Client()
    return Client(address or default.address, name or (default.name if address is None else "unknown"),
                  default.helo if helo is None else helo, protocol is None or protocol.upper() == "ESMTP")


class Replay:
    """Messages through one chain, each in a session of its own or all in one session."""

    def __init__(self, chain: Chain, options: Options, myhostname: str):
        self.chain, self.options, self.myhostname = chain, options, myhostname
        self.connection: Connection | None = None

    async def outcome(self, item: Item, queue_id: str | None = None, arrival: float | None = None) -> Outcome:
        """The message's outcome; in a session of its own, the disconnect hook's calls end its trace."""
        connection = self.connection or await self._connected()
        options = self.options
        outcome = await connection.send(item.data, options.sender_of(item), options.recipients, queue_id, arrival)
        if options.one_session:
            self.connection = connection
        else:
            outcome.trace.extend(await connection.close())
        return outcome

    async def close(self) -> list[Call]:
        """The end of the one session: the disconnect hook's calls (none when each message had its own)."""
        connection, self.connection = self.connection, None
        return await connection.close() if connection is not None else []

    async def _connected(self) -> Connection:
        connection = Connection(self.chain, self.options.client, self.myhostname, add_received=True)
        await connection.open()
        return connection


def fate(outcome: Outcome) -> str:
    """Which of FATES the message met; a refusal with a 4XX code is deferred whatever its action word."""
    if outcome.verdict is None:
        return "held" if outcome.hold else "accepted"
    if outcome.verdict.action is Action.DISCARD:
        return "discarded"
    return "deferred" if outcome.verdict.reply()[0] < 500 else "rejected"


def summary(counts: Counter) -> str:
    """`120 messages: 100 accepted, 15 rejected, 3 deferred, 1 discarded, 1 held` (held apart from accepted)."""
    total = sum(counts.values())
    return f"{total} message{'' if total == 1 else 's'}: " + ", ".join(f"{counts[name]} {name}" for name in FATES)


def exit_status(counts: Counter) -> int:
    return EXIT_REFUSED if any(counts[name] for name in REFUSALS) else EXIT_ACCEPTED


async def replay(chain: Chain, items: Iterable[Item], options: Options, myhostname: str, out: TextIO,
                 many: bool = False, quiet: bool = False) -> int:
    """Report on each message as it is done, then (for several, `many`, or an mbox) the summary; the exit
    status. Nothing is kept of a message once it is reported."""
    session = Replay(chain, options, myhostname)
    counts: Counter = Counter()
    for item in items:
        many = many or item.in_mbox
        outcome = await session.outcome(item)
        if quiet:
            print(f"{item.label}: {describe(outcome)}", file=out)
        else:
            _headed_report(item, outcome, out, many, first=not counts)
        counts[fate(outcome)] += 1
        outcome.message.close()
    _session_end(await session.close(), out, quiet)
    if many:
        print(("\n" if not quiet else "") + summary(counts), file=out)
    return exit_status(counts)


def _headed_report(item: Item, outcome: Outcome, out: TextIO, many: bool, first: bool) -> None:
    if many:
        if not first:
            print("", file=out)
        print(f"==> {item.label} <==", file=out)
    report(outcome, out)


def _session_end(calls: list[Call], out: TextIO, quiet: bool) -> None:
    """The disconnect hook's calls at the end of the one session (--session), when a plugin implements it."""
    if calls and not quiet:
        print("\n==> end of session <==", file=out)
        _trace(calls, out)


def describe(outcome: Outcome) -> str:
    """One line for the transaction's fate, in Postfix's words."""
    if outcome.verdict is not None:
        if outcome.verdict.action is Action.DISCARD:
            return f"discard {outcome.verdict.text}".rstrip()
        code, dsn, text = outcome.verdict.reply()
        return f"{'defer' if code < 500 else 'reject'} {code} {dsn} {text}"
    parts = ["accept"]
    if outcome.hold:
        parts.append(f"hold ({outcome.hold})")
    if outcome.redirect:
        parts.append(f"redirect to {outcome.redirect}")
    if outcome.filter:
        parts.append(f"filter {outcome.filter}")
    parts.extend(f"bcc {a}" for a in outcome.bcc)
    return ", ".join(parts)


def _edit_text(edit: Edit) -> str:
    if isinstance(edit, AddHeader):
        return f"add header {edit.name}: {edit.value}"
    if isinstance(edit, InsertHeader):
        return f"insert header {edit.name}: {edit.value} at {edit.index}"
    if isinstance(edit, ChangeHeader) and edit.value:
        return f"change header {edit.name}[{edit.occurrence}]: {edit.value}"
    if isinstance(edit, ChangeHeader | DeleteHeader):
        return f"delete header {edit.name}[{edit.occurrence}]"
    if isinstance(edit, ChangeSender):
        return f"change sender <{edit.address}>"
    if isinstance(edit, AddRecipient):
        return f"add recipient <{edit.address}>"
    if isinstance(edit, DeleteRecipient):
        return f"delete recipient <{edit.address}>"
    return "replace body"


def shown(verdict: Verdict) -> str:
    """The verdict as a table result, followed by the edits, symbols and authentication results it carries (which
    str() leaves out)."""
    return "; ".join([str(verdict)] + [_edit_text(edit) for edit in verdict.edits]
                     + [f"symbol {symbol}" for symbol in verdict.symbols]
                     + [f"auth_result {result}" for result in verdict.auth_results])


def _trace(calls: list[Call], out: TextIO) -> None:
    for call in calls:
        text = f"error ({call.error}) -> {shown(call.verdict)}" if call.error else shown(call.verdict)
        if call.observed:
            text += " (observed: reject_warning, not enforced)"
        print(f"{call.hook:<15} {call.plugin:<24} {text}", file=out)


def _symbols(symbols: list[Scored], out: TextIO) -> None:
    """Every symbol with the plugin that added it, then the score (an observed plugin's symbols do not count)."""
    for scored in symbols:
        observed = ", observed: not counted" if scored.observed else ""
        why = f": {scored.symbol.text}" if scored.symbol.text else ""
        print(f"symbol {scored.symbol.name} {scored.symbol.weight:g} from {scored.plugin} at {scored.hook}"
              f"{observed}{why}", file=out)
    if symbols:
        print(f"score: {score(symbols):g}", file=out)


def report(outcome: Outcome, out: TextIO) -> None:
    """Every plugin call, the refused recipients, the result, and the message as it would leave if accepted."""
    _trace(outcome.trace, out)
    _symbols(outcome.symbols, out)
    for rcpt, verdict in outcome.rejected_recipients.items():
        print(f"recipient <{rcpt}> refused: {verdict}", file=out)
    print(f"result: {describe(outcome)}", file=out)
    if outcome.verdict is None:
        print("", file=out)
        write_message(outcome, out)


def write_message(outcome: Outcome, out: TextIO) -> None:
    """The message with LF line ends, a line at a time; bytes that are not UTF-8 shown as U+FFFD."""
    message = outcome.message
    out.write(message.header_bytes().decode("utf-8", "replace").replace("\r\n", "\n"))
    for line in message.body_lines():
        out.write(line.decode("utf-8", "replace").replace("\r\n", "\n"))
