"""`filterd sendmail [-f SENDER] [-F NAME] [-t] [-i] [RCPT...]`: Sendmail-compatible local submission.

The message on standard input becomes one complete queue file in maildrop, written durably; the queue
manager's pickup moves it into incoming and logs `QUEUEID: uid=N from=<SENDER>`. Options as Postfix's
sendmail: -B body type, -C config, -F full name, -f/-r sender, -i/-oi, -N dsn notify, -R dsn ret, -t,
-V envid, -v (mail the sender a report of the first delivery attempt); -bm is the only mode; -n, -m, -X and
other -o options are accepted and ignored.
"""

from __future__ import annotations

import argparse
import email.utils
import getopt
import os
import pwd
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO, Iterator, Mapping

from filterd.addresses import AddressRules
from filterd.canonical import CanonicalMaps
from filterd.header_rewrite import rewrite_headers
from filterd.maildate import mail_date
from filterd.queue.queuefile import QueueEnvelope, Recipient
from filterd.queue.spool import QueueFull, Spool
from filterd.queue.tools import submission
from filterd.queue.tools.console import EX_TEMPFAIL, EX_USAGE, Console, ToolError, open_maillog
from filterd.queueid import new_queue_id

NAME = "sendmail"
HELP = "submit a message from standard input into the maildrop queue, as Sendmail/Postfix's sendmail"
OPTION_LETTERS = "B:C:F:f:iN:nR:r:tV:o:b:mvX:"
SETTERS = {"-f": "sender", "-r": "sender", "-F": "full_name", "-C": "config", "-B": "body_type",
           "-N": "notify", "-R": "ret", "-V": "envid"}
_CHUNK = 65536


def add_arguments(parser) -> None:
    parser.add_argument("argv", nargs="...", help="sendmail's options and the recipients")


def help_parser() -> argparse.ArgumentParser:
    """The --help screen only: Sendmail's options are parsed by getopt, as Postfix's sendmail parses them."""
    helper = argparse.ArgumentParser(prog="filterd sendmail", add_help=False,
                                     usage="%(prog)s [options] [recipient ...]",
                                     description=HELP[0].upper() + HELP[1:] + ".")
    add = helper.add_argument
    add("-f", "-r", metavar="SENDER", help="the envelope sender (default: your login name)")
    add("-F", metavar="FULL_NAME", help="the sender's full name for a From: header the message lacks")
    add("-t", action="store_true", help="take recipients from the To:, Cc: and Bcc: headers too")
    add("-i", action="store_true", help="a line with a single dot does not end the message (also -oi)")
    add("-N", metavar="DSN", help="delivery status notification: never, or success, delay, failure")
    add("-R", metavar="RET", help="what a notification returns: hdrs or full")
    add("-V", metavar="ENVID", help="the envelope id for notifications")
    add("-B", metavar="BODY_TYPE", help="7BIT or 8BITMIME")
    add("-C", metavar="CONFIG", help="main.cf, or the directory that holds it")
    add("-bm", action="store_true", help="read the message from standard input (the only mode)")
    add("--help", action="store_true", help="show this help message and exit")
    add("-v", action="store_true", help="mail the sender a report of the first delivery attempt")
    add("recipient", nargs="*", help="the recipients; -n, -m, -X and other -o options are ignored")
    return helper


@dataclass
class Options:
    """sendmail's command line."""

    recipients: list[str] = field(default_factory=list)
    help: bool = False
    sender: str | None = None
    full_name: str | None = None
    config: str | None = None
    extract: bool = False
    dot_ends_input: bool = True
    body_type: str = ""
    notify: str = ""
    ret: str = ""
    envid: str = ""
    record: bool = False


def parse_options(argv: list[str]) -> Options:
    """Options first, then recipients, as getopt(3) parses them for Postfix's sendmail."""
    try:
        pairs, recipients = getopt.getopt(argv, OPTION_LETTERS, ["help"])
    except getopt.GetoptError as exc:
        raise ToolError(f"usage: sendmail [options] [recipient...]: {exc}", EX_USAGE) from None
    options = Options(recipients)
    for flag, value in pairs:
        if flag in SETTERS:
            setattr(options, SETTERS[flag], value)
        elif flag == "-t":
            options.extract = True
        elif flag == "-v":
            options.record = True
        elif flag == "--help":
            options.help = True
        elif flag == "-i" or (flag, value) == ("-o", "i"):
            options.dot_ends_input = False
        elif flag == "-b" and value != "m":
            raise ToolError(f"unsupported mode: -b{value}", EX_USAGE)
    return options


def _recipients(options: Options, headers, origin: str) -> list[Recipient]:
    """Command-line recipients, then those of the headers with -t; qualified, duplicates removed."""
    given = [a for arg in options.recipients for _, a in email.utils.getaddresses([arg]) if a]
    if options.extract:
        given += submission.header_recipients(headers)
    if not given:
        raise ToolError("No recipient addresses found in message header" if options.extract else
                        "Recipient addresses must be specified on the command line or via the -t option",
                        EX_TEMPFAIL)
    notify = options.notify.upper()
    found: dict[str, Recipient] = {}
    for raw in given:
        address = submission.qualify(raw, origin)
        found.setdefault(address, Recipient(address, "" if raw == address else raw, notify))
    return list(found.values())


def _spool_body(lines: Iterator[bytes], memory: int, limit: int, used: int) -> tuple[IO[bytes], int]:
    """The body in a spooled temporary file; ToolError once the message passes message_size_limit."""
    body = tempfile.SpooledTemporaryFile(max_size=memory)
    size = 0
    for line in lines:
        body.write(line)
        size += len(line)
        if limit and used + size > limit:
            raise ToolError("message file too big", EX_TEMPFAIL)
    body.seek(0)
    return body, size


def _chunks(header: bytes, body: IO[bytes]) -> Iterator[bytes]:
    yield header
    while chunk := body.read(_CHUNK):
        yield chunk


def full_name(user: pwd.struct_passwd, environ: Mapping[str, str] = os.environ) -> str:
    """Postfix's fullname(): $NAME, else the GECOS field up to a `,`, `;` or `%`, `&` the login name capitalized."""
    if "NAME" in environ:
        return environ["NAME"]
    return re.split("[,;%]", user.pw_gecos, maxsplit=1)[0].replace("&", user.pw_name[:1].upper() + user.pw_name[1:])


def _identity(options: Options, config, user: pwd.struct_passwd) -> submission.Identity:
    """The envelope sender (-f, else the login name) and the full name (-F, else full_name())."""
    sender = user.pw_name if options.sender is None else options.sender
    name = full_name(user) if options.full_name is None else options.full_name
    return submission.Identity(submission.qualify(sender, config.get("myorigin")), name, user.pw_uid,
                               config.get("myhostname"), config.get("mail_name"))


def submit(options: Options, config, stream: IO[bytes], user: pwd.struct_passwd) -> str:
    """Write the message into maildrop; returns its queue id."""
    origin, queue_id, now = config.get("myorigin"), new_queue_id(), time.time()
    identity = _identity(options, config, user)
    headers, body_lines = submission.split_headers(submission.input_lines(stream, options.dot_ends_input))
    recipients = _recipients(options, headers, origin)
    rules = AddressRules.from_config(config)
    drop = frozenset(name.lower() for name in config.list("message_drop_headers"))
    header = submission.local_headers(headers, identity, queue_id, mail_date(now), drop,
                                      lambda kept: rewrite_headers(kept, rules, CanonicalMaps.from_config(config),
                                                                   queue_id))
    body, body_size = _spool_body(body_lines, config.size("filterd_spool_memory_limit"),
                                  config.size("message_size_limit"), len(header))
    message_id = next((h.value for h in headers if h.name.lower() == "message-id"),
                      f"<{queue_id}@{identity.myhostname}>")
    envelope = QueueEnvelope(queue_id, identity.sender, recipients, now, len(header) + body_size,
                             options.body_type.upper(), _needs_smtputf8(identity.sender, recipients, header),
                             options.ret.upper(), options.envid, protocol="local", message_id=message_id,
                             record=options.record)
    with body:
        Spool(config.get("queue_directory")).create().store("maildrop", envelope, _chunks(header, body))
    return queue_id


def _needs_smtputf8(sender: str, recipients: list[Recipient], header: bytes) -> bool:
    """Postfix autodetects SMTPUTF8 for sendmail: any non-ASCII address or header."""
    return not (sender.isascii() and all(r.address.isascii() for r in recipients) and header.isascii())


def main(args, load) -> int:
    console = Console(NAME)
    user = pwd.getpwuid(os.getuid())
    try:
        options = parse_options(args.argv)
        if options.help:
            help_parser().print_help()
            return 0
        args.config = options.config or args.config
        config = load().config
        open_maillog(config)
        submit(options, config, sys.stdin.buffer, user)
    except ToolError as error:
        return console.fatal(ToolError(f"{user.pw_name}({user.pw_uid}): {error}", error.status))
    except (QueueFull, OSError) as exc:
        return console.fatal(ToolError(f"{user.pw_name}({user.pw_uid}): queue file write error: {exc}", EX_TEMPFAIL))
    return 0
