"""The long fuzz run: the suite's hypothesis fuzz tests with a large budget, and coverage-guided fuzzing with
atheris (libFuzzer) where coverage guidance helps, on the same properties as the suite.

    python -m bench.fuzz hypothesis [--scale 200] [--deadline 2] [-k EXPR]
    python -m bench.fuzz atheris TARGET [libFuzzer options: -runs=N -max_total_time=S -timeout=S ...]
    python -m bench.fuzz list

`hypothesis` runs every tests/**/test_fuzz_*.py with FILTERD_FUZZ_SCALE times the suite's examples, a random seed
(a failure prints the example and a @reproduce_failure blob) and a deadline per input that catches a hang.
`atheris` fuzzes one target, its input bytes decoded by the target (a milter byte stream, a table file, main.cf
text...), each checked by the suite's property (the `check_*` functions of the fuzz tests): no exception but the
documented ones, bounded output, round trips. libFuzzer's -timeout (default here 10 s an input) catches a hang,
-rss_limit_mb (default here 2048) unbounded memory. Install with `pip install -e '.[test,fuzz]'`.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
ATHERIS_DEFAULTS = ["-timeout=10", "-rss_limit_mb=2048"]


@functools.cache
def _scratch() -> Path:
    """A directory for the files a target writes (a table, a queue file), one a process under one fixed directory
    where the next run removes those of finished runs: libFuzzer ends the process without Python's exit handlers."""
    root = Path(tempfile.gettempdir()) / "filterd-fuzz"
    if root.is_dir():
        for stale in root.iterdir():
            if not (stale.name.isdigit() and _running(int(stale.name))):
                shutil.rmtree(stale, ignore_errors=True)
    path = root / str(os.getpid())
    path.mkdir(parents=True, exist_ok=True)
    return path


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _milter_stream(data: bytes) -> None:
    from tests.milter.protocol.test_fuzz_codec import check_stream
    check_stream(data[1:], sorted({byte % (len(data) + 1) for byte in data[:1]}))


def _milter_commands(data: bytes) -> None:
    from filterd.milter.protocol.commands import COMMANDS, decode_command
    from tests.milter.protocol.test_fuzz_codec import check_payload
    codes = sorted(COMMANDS)
    if data:
        check_payload(COMMANDS, decode_command, codes[data[0] % len(codes)], data[1:])


def _milter_responses(data: bytes) -> None:
    from filterd.milter.protocol.responses import RESPONSES, decode_response
    from tests.milter.protocol.test_fuzz_codec import check_payload
    codes = sorted(RESPONSES)
    if data:
        check_payload(RESPONSES, decode_response, codes[data[0] % len(codes)], data[1:])


def _milter_macros(data: bytes) -> None:
    from tests.milter.protocol.test_fuzz_codec import check_macros
    check_macros(data[:1] or b"C", data[1:], ["i", "{auth_authen}", "j", "{", "daemon_name"])


def _milter_handler(data: bytes) -> None:
    """The input as the MTA's side of a milter connection: framed packets to a handler with every hook."""
    from filterd.milter.protocol.framing import PacketReader, ProtocolError
    from tests.milter.server.test_fuzz_handler import Everything, check_dialogue
    try:
        packets = PacketReader().feed(data)
    except ProtocolError:
        return
    check_dialogue([Everything()], packets)


def _table(kind: str) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        """The input as a table file, looked up with keys of every kind."""
        from tests.tables.test_fuzz_tables import check_table
        path = _scratch() / kind
        path.write_bytes(data)
        check_table(f"{kind}:{path}", bool(data[:1]) and data[0] % 2 == 0,
                    ["a", "ab", "10.0.0.1", "2001:db8::1", "A b:1", "", "\udcff"])
    return target


def _inline(data: bytes) -> None:
    from tests.tables.test_fuzz_tables import check_table
    text = data.decode("utf-8", "surrogateescape")
    for kind in ("inline:", "static:", "regexp:", "pcre:", "cidr:"):
        check_table(kind + text, True, ["k", "a", "10.0.0.1"])


def _main_cf(data: bytes) -> None:
    from filterd.config import ConfigError, parse_main_cf
    from tests.test_fuzz_config import KNOWN, check_config
    try:
        entries = parse_main_cf(data.decode("utf-8", "surrogateescape"), "main.cf")
    except ConfigError:
        return
    check_config([entry for entry in entries if entry[0] in KNOWN], KNOWN)


def _content(data: bytes) -> None:
    from tests.test_fuzz_content import parse
    content = data.splitlines(keepends=True)
    parser, body, _ = parse(content, 64)
    assert all(len(header.raw) <= 66 for header in parser.headers)
    assert len(body) <= len(data)


def _mime(data: bytes) -> None:
    from tests.plugins.header_checks.test_fuzz_mime_state import inspect
    lines = data.split(b"\n")
    headers, records = lines[:2], [(line, line.endswith(b"\\")) for line in lines[2:]]
    if records:
        assert inspect(headers, records, 100) == list(range(len(records)))


def _queue_file(data: bytes) -> None:
    from tests.queue.test_fuzz_queuefile import check_queue_file
    check_queue_file(_scratch() / "4QUEUEFILEzQ", b"FQ1 " + data)


def _smtp_arguments(data: bytes) -> None:
    from filterd.model import Session
    from filterd.smtp.dsn import refusal
    from filterd.smtp.server import take_dsn
    from filterd.smtp.xforward import apply_xforward, xforward_refusal
    text = data.decode("utf-8", "surrogateescape")
    for command in ("MAIL", "RCPT"):
        refusal(take_dsn(text, command)[1])
    if xforward_refusal(text) is None:
        apply_xforward(Session(), text)


def _smtp_session(data: bytes) -> None:
    """The input as what an SMTP client sends, then the end of input: one well-formed reply a command, an end."""
    from tests.fixtures.smtp_session import run_session
    from tests.smtp.test_fuzz_sessions import check_enhanced, replies
    out, _, ended = run_session(data)
    assert ended
    for reply in replies(out):
        check_enhanced(reply)
        assert "internal error" not in reply[-1]


def _policy_stream(data: bytes) -> None:
    """The input as what a policy client sends, cut where its first byte says: the same records or the same error."""
    from tests.policy.test_fuzz_protocol import check_stream
    check_stream(data[1:], sorted({byte % (len(data) + 1) for byte in data[:1]}))


TARGETS: dict[str, Callable[[bytes], None]] = {
    "milter-stream": _milter_stream, "milter-commands": _milter_commands, "milter-responses": _milter_responses,
    "milter-macros": _milter_macros, "milter-handler": _milter_handler, "regexp": _table("regexp"),
    "pcre": _table("pcre"), "cidr": _table("cidr"), "texthash": _table("texthash"), "inline": _inline,
    "main-cf": _main_cf, "content": _content, "mime": _mime, "queue-file": _queue_file,
    "smtp-arguments": _smtp_arguments, "smtp-session": _smtp_session, "policy-stream": _policy_stream,
}
"""What atheris can fuzz: each takes the fuzzer's bytes and checks the suite's property on them."""


def run_hypothesis(scale: float, deadline: float, expression: str | None) -> int:
    """The suite's fuzz tests, `scale` times their examples, each input within `deadline` seconds."""
    tests = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "tests").rglob("test_fuzz_*.py"))
    env = dict(os.environ, FILTERD_FUZZ_SCALE=str(scale), FILTERD_FUZZ_DEADLINE=str(deadline))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:logging", *tests] + (["-k", expression] if expression
                                                                                    else [])
    return subprocess.call(command, cwd=ROOT, env=env)


def run_atheris(name: str, libfuzzer_args: list[str]) -> None:
    """Fuzz one target, filterd instrumented for coverage; libFuzzer's options pass through."""
    import atheris
    with atheris.instrument_imports(include=["filterd"]):
        import filterd.config, filterd.content, filterd.milter.protocol.commands  # noqa: E401,F401
        import filterd.milter.protocol.responses, filterd.milter.server.handler, filterd.tables  # noqa: E401,F401
        import filterd.plugins.header_checks.mime_state, filterd.queue.queuefile  # noqa: E401,F401
        import filterd.smtp.dsn, filterd.smtp.server, filterd.tables.postmap  # noqa: E401,F401
        import filterd.policy.protocol  # noqa: F401
    logging.disable(logging.WARNING)
    given = {arg.split("=")[0] for arg in libfuzzer_args}
    defaults = [arg for arg in ATHERIS_DEFAULTS if arg.split("=")[0] not in given]
    atheris.Setup([sys.argv[0], *defaults, *libfuzzer_args], TARGETS[name])
    atheris.Fuzz()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    long_run = commands.add_parser("hypothesis", help="the suite's fuzz tests with a large budget")
    long_run.add_argument("--scale", type=float, default=200.0, help="times the suite's examples (default 200)")
    long_run.add_argument("--deadline", type=float, default=2.0, help="seconds an input may take (default 2)")
    long_run.add_argument("-k", dest="expression", help="only the tests pytest's -k expression selects")
    guided = commands.add_parser("atheris", help="coverage-guided fuzzing of one target")
    guided.add_argument("target", choices=sorted(TARGETS))
    commands.add_parser("list", help="the atheris targets")
    args, rest = parser.parse_known_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.command == "hypothesis":
        return run_hypothesis(args.scale, args.deadline, args.expression)
    if args.command == "list":
        print("\n".join(sorted(TARGETS)))
        return 0
    run_atheris(args.target, rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
