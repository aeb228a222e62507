"""`filterd postcat`: a queue file in human-readable form, in the layout of Postfix's postcat.

Envelope records carry Postfix's record names (message_size, message_arrival_time, sender, recipient,
done_recipient, dsn_*, content_filter, redirect_to); filterd's own fields and each recipient's last
delivery status are shown as named attributes. The content is printed with LF line ends.
"""

from __future__ import annotations

import sys
from typing import IO, Iterator

from filterd.queue.queuefile import CorruptQueueFile, QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool
from filterd.queue.tools.console import Console, ToolError, open_maillog
from filterd.queue.tools.listing import asctime, queue_id_ok

NAME = "postcat"
HELP = "show a queue file (envelope, headers, body), as Postfix's postcat"


def add_arguments(parser) -> None:
    parser.add_argument("-b", action="store_true", help="show the body")
    parser.add_argument("-e", action="store_true", help="show the envelope records")
    parser.add_argument("-h", action="store_true", help="show the header")
    parser.add_argument("-q", action="store_true", help="the arguments are queue ids, not file names")
    parser.add_argument("files", nargs="+", metavar="FILE_OR_QUEUE_ID")


def _attributes(env: QueueEnvelope) -> list[tuple[str, str]]:
    named = [("log_ident", env.queue_id), ("log_message_origin", env.client), ("helo_name", env.helo),
             ("protocol_name", env.protocol), ("body_type", env.body_type),
             ("smtputf8", "yes" if env.smtputf8 else ""), ("hold_reason", env.hold_reason),
             *(("bcc", address) for address in env.bcc)]
    return [("named_attribute", f"{name}={value}") for name, value in named if value]


def _recipient(rcpt: Recipient) -> list[tuple[str, str]]:
    records = [("named_attribute", f"dsn_orig_rcpt={rcpt.orcpt}" if rcpt.orcpt else ""),
               ("dsn_notify_flags", rcpt.notify),
               ("done_recipient" if rcpt.done else "recipient", rcpt.address)]
    if rcpt.status:
        fields = [f"{name}={value}" for name, value in
                  (("status", rcpt.status), ("dsn", rcpt.dsn), ("relay", rcpt.relay)) if value]
        records.append(("named_attribute", ", ".join(fields) + (f" ({rcpt.text})" if rcpt.text else "")))
    return records


def envelope_records(env: QueueEnvelope) -> list[tuple[str, str]]:
    """(record name, value) pairs, empty values left out except the sender's."""
    records = [("message_size", str(env.size)), ("message_arrival_time", asctime(env.arrival)),
               *_attributes(env), ("content_filter", env.filter), ("redirect_to", env.redirect),
               ("dsn_ret_flags", env.ret), ("dsn_envelope_id", env.envid)]
    records = [(name, value) for name, value in records if value]
    records.append(("sender", env.sender))
    for rcpt in env.recipients:
        records += [(name, value) for name, value in _recipient(rcpt) if value]
    return records


def content_lines(qf: QueueFile) -> Iterator[tuple[bool, bytes]]:
    """(in header?, line with LF) for every content line, streamed."""
    in_header, rest = True, b""
    for chunk in qf.content():
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            line = line.removesuffix(b"\r")
            in_header = in_header and line != b""
            yield in_header, line + b"\n"
    if rest:
        yield in_header and rest != b"", rest.removesuffix(b"\r") + b"\n"


def show(qf: QueueFile, label: str, sections: str, out: IO[bytes]) -> None:
    """Write the sections asked for ('e', 'h', 'b'); the *** markers come with the envelope, as in Postfix."""
    def marker(name: str) -> None:
        if "e" in sections:
            out.write(f"*** {name} {label} ***\n".encode("utf-8", "surrogateescape"))

    marker("ENVELOPE RECORDS")
    if "e" in sections:
        for name, value in envelope_records(qf.envelope):
            out.write(f"{name}: {value}\n".encode("utf-8", "surrogateescape"))
    marker("MESSAGE CONTENTS")
    if "h" in sections or "b" in sections:
        for in_header, line in content_lines(qf):
            if ("h" if in_header else "b") in sections:
                out.write(line)
    marker("HEADER EXTRACTED")
    marker("MESSAGE FILE END")


def locate(spool: Spool, name: str, by_id: bool) -> tuple[str, str]:
    """(path, label) of a file argument or, with -q, of a queue id found in the spool."""
    if not by_id:
        return name, name
    queue = spool.find(name) if queue_id_ok(name) else None
    if queue is None:
        raise ToolError(f"open queue file {name}: No such file or directory")
    return str(spool.path(queue, name)), f"{queue}/{name}"


def main(args, load) -> int:
    config = load().config
    open_maillog(config)
    console, spool = Console(NAME), Spool(config.get("queue_directory"))
    sections = "".join(s for s in "ehb" if getattr(args, s)) or "ehb"
    try:
        for name in args.files:
            path, label = locate(spool, name, args.q)
            try:
                show(QueueFile.read(path), label, sections, sys.stdout.buffer)
            except CorruptQueueFile:
                console.warning(f"{path}: input is not a valid queue file")
    except ToolError as error:
        return console.fatal(error)
    sys.stdout.buffer.flush()
    return 0
