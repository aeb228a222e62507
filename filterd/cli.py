"""The `filterd` command: start, stop, reload, status, check-config, start-fg, check, pipe, postconf, postmap, the
queue tools, version."""

from __future__ import annotations

import sys

from filterd import TYPE_CHECKING, __version__

if TYPE_CHECKING:
    import argparse


def _overrides(items: list[str]) -> dict[str, str]:
    result = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq:
            raise SystemExit(f"filterd: fatal: -o {item}: expected name=value")
        result[name.strip()] = value.strip()
    return result


def _load(args: argparse.Namespace):
    from filterd import loading

    return loading.load(args.config, _overrides(args.o))


def cmd_start_fg(args: argparse.Namespace) -> int:
    """Run in the foreground, logging to stderr unless maillog_file says otherwise."""
    from filterd import service

    return service.start_fg(_load(args), _overrides(args.o), args.verbose)


def cmd_service(args: argparse.Namespace) -> int:
    """start, reload, check-config: Postfix's `postfix` commands that load everything first."""
    from filterd import service

    loaded = _load(args)
    service.setup_log(loaded.config, foreground=False, debug=args.command == "start" and args.verbose)
    if args.command == "start":
        return service.start(loaded, _overrides(args.o))
    return {"reload": service.reload, "check-config": service.check}[args.command](loaded)


def cmd_control(args: argparse.Namespace) -> int:
    """stop, status: main.cf alone is read, so that a filterd whose main.cf was broken since can still be
    stopped."""
    from filterd import loading, service

    config = loading.load_main_cf(args.config, _overrides(args.o))
    service.setup_log(config, foreground=False)
    return {"stop": service.stop, "status": service.status}[args.command](config)


def cmd_check(args: argparse.Namespace) -> int:
    """Run the configured chain on messages and print every verdict, the outcome and each message as it would
    leave; with --against, what another configuration would do differently."""
    import asyncio

    from filterd import maillog
    from filterd.assembly import make_chain
    from filterd.check import replay
    from filterd.check.message_files import read_items, several
    from filterd.tables.problems import report_table_problems

    client = replay.client(args.a, args.n, args.H, args.p)
    sender = "" if args.f == "<>" else args.f
    options = replay.Options(client, sender, tuple(args.r or [replay.DEFAULT_RECIPIENT]), args.session)
    loaded = _load(args)
    myhostname = loaded.config.get("myhostname")
    report_table_problems(loaded.config, sys.stderr)
    maillog.setup("", "filterd", myhostname, foreground=True)
    chain = make_chain(loaded.config, loaded.plugins)
    items = read_items(args.files)
    if args.against is not None:
        from filterd.check import against

        return against.run(chain, items, options, myhostname, loaded.path, args.against, _overrides(args.o),
                           sys.stdout, args.verbose)
    return asyncio.run(replay.replay(chain, items, options, myhostname, sys.stdout, several(args.files), args.q))


def cmd_postconf(args: argparse.Namespace) -> int:
    """postconf parses its own options (its -h means "values only"), -c and -o included."""
    from filterd.postconf.command import run

    return run(args.rest, args.config, _overrides(args.o))


def cmd_postmap(args: argparse.Namespace) -> int:
    from filterd.tables.postmap import run

    return run(args.q, args.tables)


def cmd_queue_tool(args: argparse.Namespace) -> int:
    """postqueue, postsuper, postcat, qshape, sendmail: Postfix's queue tools on filterd's spool."""
    from filterd.queue.tools import run

    return run(args, lambda: _load(args))


def cmd_pipe(args: argparse.Namespace) -> int:
    """filterd as Postfix's pipe(8) simple filter: 0 reinjected or discarded, 75 try later, 69 bounce. Started once a
    message, so it imports the pipe front end and the chain alone, not the assembly and every other front end; with
    filterd_pipe_service, only the client that hands the message to the resident filterd."""
    from filterd import pipe
    from filterd.config import ConfigError
    from filterd.fatal import FatalError
    from filterd.maillog import setup

    sender = "" if args.f in ("<>", "MAILER-DAEMON") else args.f
    try:
        loaded = _load(args)
        config = loaded.config
        if service := config.get("filterd_pipe_service"):
            from filterd.pipe.client import hand_over

            return hand_over(service, sender, args.recipients)
        setup(config.get("maillog_file"), config.get("syslog_name"), config.get("myhostname"),
              config.get("syslog_facility"), foreground=False)
    except (ConfigError, FatalError, OSError) as exc:
        print(f"4.3.5 filterd configuration error: {exc}")
        return pipe.EX_TEMPFAIL
    from filterd.chain import Chain
    from filterd.pipe.in_process import run

    return run(Chain.from_config(loaded.plugins, config), config, sender, args.recipients)


def _pipe_words(argv: list[str]) -> tuple[dict[str, list[str]], str, list[str]] | None:
    """({-c: [...], -o: [...]}, sender, recipients) of `filterd [-c CONFIG] [-o NAME=VALUE]... pipe [-c ...] -f
    SENDER [--] RECIPIENT...`, the way pipe(8) runs it; None for any other command line."""
    options: dict[str, list[str]] = {"-c": [], "-o": []}
    words = list(argv)
    for command in ("pipe", "-f"):
        while len(words) > 1 and words[0] in options:
            options[words.pop(0)].append(words.pop(0))
        if words[:1] != [command]:
            return None
        words.pop(0)
    if len(words) < 2:
        return None
    sender, recipients = words[0], words[1:]
    if recipients[0] == "--":
        recipients = recipients[1:]
    elif any(recipient.startswith("-") for recipient in recipients):
        return None
    return (options, sender, recipients) if recipients else None


def _served_pipe(argv: list[str]) -> int | None:
    """`filterd pipe` with filterd_pipe_service set, handed over before argparse and the configuration loader are
    imported; None when the command line or main.cf needs the whole of them."""
    words = _pipe_words(argv)
    if words is None:
        return None
    from filterd.pipe.main_cf import pipe_service

    options, sender, recipients = words
    service = pipe_service(options["-c"][-1] if options["-c"] else None, options["-o"])
    if not service:
        return None
    from filterd.pipe.client import hand_over

    return hand_over(service, "" if sender in ("<>", "MAILER-DAEMON") else sender, recipients)


def cmd_version(args: argparse.Namespace) -> int:
    print(f"filterd {__version__}")
    return 0


SERVICE_COMMANDS = {
    "stop": "stop the running filterd: its processes finish their sessions first (filterd_shutdown_timeout)",
    "reload": "re-read main.cf, the plugins and the tables without losing a connection; a configuration that "
              "does not pass check-config is refused and the running one stays",
    "status": "tell whether filterd runs, and its master's PID (exit 1 when it does not run)",
    "check-config": "check main.cf, its plugins, its tables and mail_owner, as Postfix's postfix check (not the "
                    "message dry run: that is filterd check)",
}


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


def parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per tool, each answering --help with its usage and options."""
    import argparse

    from filterd.queue.tools import add_parsers as add_queue_tools

    top = argparse.ArgumentParser(prog="filterd", description="Postfix-style mail content filter")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", dest="config", metavar="CONFIG", default=argparse.SUPPRESS,
                        help="main.cf, or the directory that holds it (default /etc/filterd/main.cf)")
    common.add_argument("-o", action="append", default=argparse.SUPPRESS, metavar="NAME=VALUE",
                        help="override a main.cf parameter")
    top.add_argument("-c", dest="config", metavar="CONFIG", default=None,
                     help="main.cf, or the directory that holds it (default /etc/filterd/main.cf)")
    top.add_argument("-o", action="append", default=[], metavar="NAME=VALUE", help="override a main.cf parameter")
    sub = top.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")

    def command(name: str, summary: str, **kwargs) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=_sentence(summary), **kwargs)

    start = command("start", "start the filterd mail system in the background, as Postfix's postfix start",
                    parents=[common])
    start.add_argument("-v", dest="verbose", action="store_true", help="debug logging")
    start.set_defaults(func=cmd_service)
    start = command("start-fg", "run in the foreground (for systemd's Type=simple and containers)",
                    parents=[common])
    start.add_argument("-v", dest="verbose", action="store_true", help="debug logging")
    start.set_defaults(func=cmd_start_fg)
    for name, summary in SERVICE_COMMANDS.items():
        command(name, summary, parents=[common]).set_defaults(
            func=cmd_control if name in ("stop", "status") else cmd_service)
    check = command("check", "run the chain on messages without sending them", parents=[common],
                    epilog="Exit status: 0 every message accepted (held included), 1 a fatal error, 3 some message "
                           "rejected, deferred or discarded; with --against, 0 no message differs, 4 some do.")
    check.add_argument("-f", metavar="SENDER",
                       help="the envelope sender, <> for the null sender (default: an mbox message's From_ line "
                            "sender, else sender@example.org)")
    check.add_argument("-r", action="append", metavar="RECIPIENT",
                       help="an envelope recipient, repeatable (default recipient@example.net)")
    check.add_argument("-a", metavar="ADDRESS", help="the client's IP address (default 127.0.0.1)")
    check.add_argument("-n", metavar="NAME",
                       help="the client's hostname, as the reverse lookup found it (default localhost without -a, "
                            "else unknown)")
    check.add_argument("-H", metavar="HELO", help="the hostname the client sends with HELO or EHLO (default localhost)")
    check.add_argument("-p", metavar="PROTOCOL",
                       help="ESMTP (the client sent EHLO, the default) or SMTP (it sent HELO)")
    check.add_argument("--session", action="store_true",
                       help="send every message in one SMTP session (default: a session of its own for each)")
    check.add_argument("--against", metavar="CONFIG",
                       help="also run each message through this configuration (a main.cf or its directory; -o "
                            "applies to both) and print the messages whose fate or edits differ, as a diff")
    check.add_argument("-q", action="store_true", help="print one line per message, its source and result")
    check.add_argument("-v", dest="verbose", action="store_true",
                       help="show the traceback of a fatal error; with --against, every message")
    check.add_argument("files", nargs="+", metavar="FILE",
                       help="a message, an mbox, a Maildir or MH directory, or - for standard input")
    check.set_defaults(func=cmd_check)
    postconf = command("postconf", "show or edit main.cf parameters, as Postfix's postconf",
                       add_help=False, prefix_chars="+")
    postconf.add_argument("rest", nargs=argparse.REMAINDER)
    postconf.set_defaults(func=cmd_postconf)
    postmap = command("postmap", "query lookup tables, as Postfix's postmap -q")
    postmap.add_argument("-q", required=True, metavar="KEY", help="the key, or - to read keys from stdin")
    postmap.add_argument("tables", nargs="+", metavar="TYPE:NAME", help="the tables, queried in order")
    postmap.set_defaults(func=cmd_postmap)
    simple = command("pipe", "filter the message on stdin and reinject it with sendmail, as a pipe(8) simple filter",
                     parents=[common], epilog="Exit status: 0 reinjected (or discarded), 75 try again later, 69 "
                                              "bounce; the reason on stdout, for pipe(8) to report.")
    simple.add_argument("-f", required=True, metavar="SENDER", help="the envelope sender (<> or empty: null sender)")
    simple.add_argument("recipients", nargs="+", metavar="RECIPIENT", help="the envelope recipients, after --")
    simple.set_defaults(func=cmd_pipe)
    add_queue_tools(sub, common, cmd_queue_tool)
    command("version", "print the version").set_defaults(func=cmd_version)
    return top


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "pipe" in argv and (status := _served_pipe(argv)) is not None:
        return status
    from filterd.config import ConfigError
    from filterd.fatal import FatalError

    top = parser()
    args, unknown = top.parse_known_args(argv)
    if unknown and args.command != "postconf":
        top.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "postconf":
        args.rest = unknown + args.rest
    try:
        return args.func(args)
    except (ConfigError, FatalError) as exc:
        if getattr(args, "verbose", False):
            import traceback

            traceback.print_exception(exc)
        print(f"filterd: fatal: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
