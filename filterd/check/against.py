"""`filterd check --against`: the same messages through two configurations, and for each message whose fate or
edits differ, a compact diff: `-` for the configuration in use (-c), `+` for the other one.

The other configuration's chain runs in a process of its own: a plugin keeps its settings and its state in its
module, so two configurations of one plugin cannot share a process. Each message goes to both chains with the
same queue id and arrival time, so that the Received: header filterd adds is the same on both sides.
"""

from __future__ import annotations

import asyncio
import difflib
import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Iterable, TextIO

from filterd import maillog
from filterd.chain import Chain
from filterd.check.message_files import Item
from filterd.check.replay import EXIT_ACCEPTED, EXIT_DIFFERENT, Options, Replay, describe
from filterd.config import ConfigError
from filterd.fatal import FatalError, raised
from filterd.queueid import new_queue_id
from filterd.simulate import Outcome
from filterd.verdict import AddRecipient, ChangeSender, DeleteRecipient

BODY_DIFF_LIMIT = 20
"""Diff lines shown of a body that differs; the rest is counted."""
BODY_LINES_COMPARED = 5000
"""Bodies with more lines than this are said to differ, without a line diff."""


@dataclass(frozen=True)
class Fingerprint:
    """What is compared of a message's outcome, small enough to pass between processes: its fate (the result
    and the refused recipients) and, for a message that would leave, its envelope, headers and body."""

    fate: tuple[str, ...]
    leaves: bool = False
    envelope: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    body: bytes = b""


def fingerprint(outcome: Outcome) -> Fingerprint:
    fate = (f"result: {describe(outcome)}",
            *(f"recipient <{rcpt}> refused: {verdict}" for rcpt, verdict in outcome.rejected_recipients.items()))
    if not outcome.accepted:
        return Fingerprint(fate)
    message = outcome.message
    return Fingerprint(fate, True, envelope_lines(outcome), tuple(header.text for header in message.headers),
                       b"".join(message.body_chunks()))


def envelope_lines(outcome: Outcome) -> tuple[str, ...]:
    """`from=<S>` and a `to=<R>` per recipient, as they would leave: the envelope edits applied."""
    sender, recipients = outcome.envelope.sender, list(outcome.envelope.recipients)
    for edit in outcome.envelope_edits:
        if isinstance(edit, ChangeSender):
            sender = edit.address
        elif isinstance(edit, AddRecipient) and edit.address not in recipients:
            recipients.append(edit.address)
        elif isinstance(edit, DeleteRecipient) and edit.address in recipients:
            recipients.remove(edit.address)
    return (f"from=<{sender}>", *(f"to=<{rcpt}>" for rcpt in recipients))


def differences(mine: Fingerprint, theirs: Fingerprint) -> list[str]:
    """The diff lines, none when the two agree. Where a side does not let the message leave, only the fates
    are compared; else the result line (as context when the same), envelope, headers and body."""
    if mine == theirs:
        return []
    if not (mine.leaves and theirs.leaves):
        return changed(mine.fate, theirs.fate)
    lines = changed(mine.fate, theirs.fate) or [f" {mine.fate[0]}"]
    return (lines + changed(mine.envelope, theirs.envelope) + changed(mine.headers, theirs.headers)
            + body_changes(mine.body, theirs.body))


def changed(old: Iterable[str], new: Iterable[str]) -> list[str]:
    """The removed (-) and added (+) lines, without context or hunk headers."""
    diff = list(difflib.unified_diff(list(old), list(new), n=0, lineterm=""))[2:]
    return [line for line in diff if not line.startswith("@@")]


def body_changes(old: bytes, new: bytes) -> list[str]:
    """The body's changed lines under `@@ body -L +L @@` hunk headers, at most BODY_DIFF_LIMIT of them."""
    if old == new:
        return []
    before, after = _lines(old), _lines(new)
    if len(before) + len(after) > 2 * BODY_LINES_COMPARED:
        return [f" body: {len(before)} lines -> {len(after)} lines"]
    diff = list(difflib.unified_diff(before, after, n=0, lineterm=""))[2:]
    diff = [line.replace("@@ ", "@@ body ", 1) if line.startswith("@@") else line for line in diff]
    if len(diff) > BODY_DIFF_LIMIT:
        diff = diff[:BODY_DIFF_LIMIT] + [f" ... {len(diff) - BODY_DIFF_LIMIT} more body diff lines"]
    return diff


def _lines(body: bytes) -> list[str]:
    return body.decode("utf-8", "surrogateescape").removesuffix("\r\n").split("\r\n") if body else []


def printable(line: str) -> str:
    """A diff line for the terminal: a folded header's lines each with the sign, bytes that are not UTF-8 as U+FFFD."""
    text = line.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.replace("\n", "\n" + text[0]) if text else text


class OtherChain:
    """The --against configuration's chain in a child process: a message goes in, its Fingerprint comes out."""

    def __init__(self, config: str, overrides: dict[str, str], options: Options):
        context = multiprocessing.get_context("spawn")
        self.pipe, child_end = context.Pipe()
        self.process = context.Process(target=serve_other, args=(child_end, config, overrides, options),
                                       name="filterd check --against", daemon=True)
        self.process.start()
        child_end.close()

    def ready(self) -> str:
        """The other main.cf's path, once its plugins are loaded; its fatal error, raised here."""
        return str(self.answer())

    def send(self, item: Item, queue_id: str, arrival: float) -> None:
        try:
            self.pipe.send((item, queue_id, arrival))
        except OSError:
            self.answer()
            raise FatalError("check --against: the other configuration's process ended") from None

    def answer(self) -> Fingerprint | str:
        """The child's next answer: a Fingerprint (or, first, the path of its main.cf); its error, raised here."""
        try:
            kind, value = self.pipe.recv()
        except EOFError:
            raise FatalError("check --against: the other configuration's process ended") from None
        if kind == "fatal":
            raise FatalError(value)
        return value

    def close(self) -> None:
        """No more messages: the child ends its session and exits (at once, if it was in the middle of one)."""
        self.pipe.close()
        self.process.join()


def serve_other(pipe: Pipe, config: str, overrides: dict[str, str], options: Options) -> None:
    """The child: load the other configuration, then answer each message with its Fingerprint until the parent
    closes the pipe. An error goes back as ("fatal", text)."""
    from filterd import loading
    from filterd.assembly import make_chain

    try:
        loaded = loading.load(config, overrides)
        maillog.setup("", "filterd", loaded.config.get("myhostname"), foreground=True)
        pipe.send(("ready", loaded.path))
        chain = make_chain(loaded.config, loaded.plugins)
        asyncio.run(_answer(pipe, Replay(chain, options, loaded.config.get("myhostname"))))
    except (ConfigError, FatalError) as exc:
        _tell(pipe, ("fatal", str(exc)))
    except (BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        pass
    except Exception as exc:  # noqa: BLE001 - the parent reports it as one line
        _tell(pipe, ("fatal", f"check --against: {raised(exc)}"))
    finally:
        pipe.close()


async def _answer(pipe: Pipe, replay: Replay) -> None:
    while True:
        try:
            item, queue_id, arrival = await asyncio.to_thread(pipe.recv)
        except EOFError:
            break
        outcome = await replay.outcome(item, queue_id, arrival)
        pipe.send(("result", fingerprint(outcome)))
        outcome.message.close()
    await replay.close()


def _tell(pipe: Pipe, message: tuple[str, str]) -> None:
    try:
        pipe.send(message)
    except OSError:
        pass


def run(chain: Chain, items: Iterable[Item], options: Options, myhostname: str, in_use: str, other_config: str,
        overrides: dict[str, str], out: TextIO, verbose: bool = False) -> int:
    """Start the other configuration's process (`in_use` is the main.cf of this one), compare, stop it."""
    other = OtherChain(other_config, overrides, options)
    try:
        names = (in_use, other.ready())
        return asyncio.run(compare(chain, items, options, myhostname, other, names, out, verbose))
    finally:
        other.close()


async def compare(chain: Chain, items: Iterable[Item], options: Options, myhostname: str, other: OtherChain,
                  names: tuple[str, str], out: TextIO, verbose: bool = False) -> int:
    """Each message through both chains; the diff of each that differs (of each, with `verbose`), then
    `N of M messages differ`. Exit status EXIT_DIFFERENT when some message differs."""
    replay = Replay(chain, options, myhostname)
    total = differing = 0
    headed = False
    for item in items:
        queue_id, arrival = new_queue_id(), time.time()
        other.send(item, queue_id, arrival)
        outcome = await replay.outcome(item, queue_id, arrival)
        mine = fingerprint(outcome)
        outcome.message.close()
        lines = differences(mine, await asyncio.to_thread(other.answer))
        if lines or verbose:
            if not headed:
                print(f"--- {names[0]}\n+++ {names[1]}", file=out)
            headed = True
            _block(item, lines or [f" {mine.fate[0]}"], out)
        total, differing = total + 1, differing + bool(lines)
    await replay.close()
    print(tally(differing, total), file=out)
    return EXIT_DIFFERENT if differing else EXIT_ACCEPTED


def _block(item: Item, lines: list[str], out: TextIO) -> None:
    print(f"==> {item.label} <==", file=out)
    for line in lines:
        print(printable(line), file=out)


def tally(differing: int, total: int) -> str:
    """`3 of 120 messages differ`."""
    noun = "message" if total == 1 else "messages"
    return f"{differing} of {total} {noun} {'differs' if differing == 1 else 'differ'}"
