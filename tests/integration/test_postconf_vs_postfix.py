"""Differential tests: `filterd postconf` against Debian's Postfix `postconf -c DIR` on the same main.cf text.

Each case writes the same main.cf into a Postfix configuration directory and a filterd one, runs both
commands with the same arguments (filterd's mostly in-process, twice through the real command), and
requires the same exit status, standard output, standard error (the directories' names aside) and, for
-e, -X and -#, the same main.cf afterwards. The cases use parameters whose
meaning and default the two share. Known differences are kept out of the inputs:
- Postfix 3.7 appends several new -e names in hash-table order (current Postfix, and filterd, sort them), and
  leaves a last line without a newline unterminated (current Postfix, and filterd, end it);
- Postfix means to trim trailing blanks from a -X or -# name but does not (trimblanks' result is unused), so
  `-X "name "` removes nothing; filterd trims;
- Postfix keeps a continuation line's leading white space in the value it joins, which shows in its "unused
  parameter" warning; filterd's main.cf reader joins with one space;
- Postfix 3.7 warns "overriding earlier entry", several times over, for a name set twice; filterd does not.
"""
from __future__ import annotations

import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from filterd.postconf.command import run
from tests.conftest import require_programs

MAIN_CF = """\
# leading comment
myhostname = mail.example.com
mydomain = example.com

# about limits
message_size_limit = 20480000
mynetworks = 127.0.0.0/8
    10.0.0.0/8
    # a comment within continuation
    192.168.0.0/16
relayhost =
smtpd_banner = $myhostname   ESMTP\tready
myorigin = $mydomain
"""
DUPLICATES = "relayhost = a\n  b\nmessage_size_limit = 1\nrelayhost = c\n\n#relayhost = d\nrelayhost=e\n"
UNUSED = MAIN_CF + "relay_host = [mx]:25\n [mx2]:25\n"

EDITS = [
    (MAIN_CF, ["-e", "mynetworks=10.0.0.0/8"]),
    (MAIN_CF, ["-e", "message_size_limit = 1", "relayhost=[mx]:25", "  mydestination =  $mydomain  "]),
    (MAIN_CF, ["relayhost="]),
    (MAIN_CF, ["relayhost=[mx]", "message_size_limit=7", "relayhost=[mx2]"]),
    (MAIN_CF, ["-X", "mynetworks", "relayhost"]),
    (MAIN_CF, ["-X", "  myorigin", "nothere"]),
    (MAIN_CF, ["-#", "mynetworks", "smtpd_banner"]),
    (DUPLICATES, ["-e", "relayhost=[mx]"]),
    (DUPLICATES, ["-#", "relayhost"]),
    (DUPLICATES, ["-X", "relayhost"]),
    (UNUSED, ["-X", "relay_host"]),
    ("", ["-e", "relayhost=[mx]"]),
]
REFUSALS = [
    ["-e", "relayhost"], ["-e", "relayhost=x", "a b=c"], ["-e", "=x"], ["-e", "#relayhost=x"],
    ["-e", "relayhost=x\nmynetworks=y"], ["-X", ""], ["-X", "#relayhost"], ["-#", "relayhost", "a=b"],
    ["-X", "relayhost=x"], ["-#", "relayhost=x"], ["-n", "relayhost=x"], ["-e"], ["-X"], ["-#"],
    ["-dn"], ["-hH"], ["-X", "-#", "relayhost"], ["-ex", "relayhost=x"], ["-d", "-o", "relayhost=x"],
    ["-eh", "relayhost=x"], ["-o", "relayhost", "relayhost"],
]
SHOWS = [
    (MAIN_CF, ["-h", "message_size_limit"]),
    (MAIN_CF, ["-n"]),
    (MAIN_CF, ["-nh"]),
    (MAIN_CF, ["-nH"]),
    (MAIN_CF, ["-p", "-n", "-x"]),
    (MAIN_CF, ["-x", "myorigin", "mydestination", "relayhost"]),
    (MAIN_CF, ["-xh", "myorigin"]),
    (MAIN_CF, ["-H", "relayhost", "mynetworks"]),
    (MAIN_CF, ["smtpd_banner", "nosuchparameter", "relayhost"]),
    (MAIN_CF, ["-n", "relayhost", "mydestination", "nosuchparameter"]),
    (MAIN_CF, ["-o", "relayhost=[mx]", "-o", "mydomain=example.net", "-x", "relayhost", "myorigin"]),
    (MAIN_CF, ["-d", "message_size_limit", "relayhost", "myorigin", "mydestination", "smtpd_recipient_limit",
               "maximal_queue_lifetime", "smtp_helo_name", "inet_interfaces"]),
    (MAIN_CF, ["-dh", "queue_run_delay"]),
    (MAIN_CF, ["message_size_limit", "-n"]),
    (MAIN_CF, ["-n", "--", "relayhost"]),
    (UNUSED, ["-n"]),
    (UNUSED, ["-h", "relayhost"]),
    # mynetworks unset: the machine's own networks in mynetworks_style's manner (Postfix's default level is 0,
    # filterd's 3.6, so each case names one)
    ("compatibility_level = 3.6\n", ["mynetworks"]),
    ("compatibility_level = 1\n", ["-x", "mynetworks", "mynetworks_style"]),
    ("mynetworks_style = subnet\n", ["mynetworks"]),
    ("mynetworks_style = class\n", ["-x", "mynetworks"]),
    ("mynetworks_style = host\ninet_protocols = ipv4\n", ["mynetworks"]),
    ("mynetworks_style = host\ninet_interfaces = loopback-only\n", ["mynetworks"]),
    ("mynetworks_style = class\ninet_interfaces = ::1, 127.0.0.1\n", ["mynetworks"]),
    ("mynetworks_style = subnet\ninet_interfaces = 127.0.0.1\n", ["mynetworks", "inet_interfaces"]),
    ("mynetworks_style = subnet\nmynetworks = 10.0.0.0/8\n", ["mynetworks"]),
]


CASES = {f"edit-{i}": case for i, case in enumerate(EDITS)}
CASES.update({f"refusal-{i}": (MAIN_CF, args) for i, args in enumerate(REFUSALS)})
CASES.update({f"show-{i}": case for i, case in enumerate(SHOWS)})
CASES["invalid-option"] = (MAIN_CF, ["-z"])
CASES["command"] = (UNUSED, ["-h", "message_size_limit", "nosuchparameter"])
CASES["command-edit"] = (MAIN_CF, ["-e", "mynetworks=10.0.0.0/8", "relayhost=[mx]"])


def run_command(command: list[str], directory: Path, args: list[str]) -> tuple[int, str, str]:
    result = subprocess.run([*command, "-c", str(directory), *args], capture_output=True, text=True, check=False)
    return result.returncode, result.stdout, result.stderr


def run_filterd(directory: Path, args: list[str]) -> tuple[int, str, str]:
    """filterd's postconf in this process: the code the command runs, without a Python start-up per case."""
    out, err = io.StringIO(), io.StringIO()
    status = run(["-c", str(directory), *args], None, None, out, err)
    return status, out.getvalue(), err.getvalue()


def outcome(directory: Path, case: str, command) -> tuple[int, str, str, str]:
    """(status, stdout, stderr, main.cf afterwards) of one case in a directory of its own, named DIR."""
    text, args = CASES[case]
    directory.mkdir()
    (directory / "master.cf").write_text("")
    (directory / "main.cf").write_text(text)
    result = command(directory, args) + ((directory / "main.cf").read_text(),)
    assert sorted(p.name for p in directory.iterdir()) == ["main.cf", "master.cf"]
    return tuple(item.replace(str(directory), "DIR") if isinstance(item, str) else item for item in result)


@pytest.fixture(scope="module")
def postfix(tmp_path_factory) -> dict[str, tuple]:
    """Postfix's outcome for every case, run side by side: each fatal error costs Postfix a second's sleep."""
    require_programs()
    root = tmp_path_factory.mktemp("postconf")

    def one(case: str) -> tuple:
        return outcome(root / f"postfix-{case}", case, lambda d, argv: run_command(["postconf"], d, argv))

    with ThreadPoolExecutor(max_workers=16) as pool:
        return dict(zip(CASES, pool.map(one, CASES)))


@pytest.fixture
def filterd(tmp_path):
    return lambda case, command=run_filterd: outcome(tmp_path / case, case, command)


@pytest.mark.parametrize("case", [case for case in CASES if case.startswith("edit-")])
def test_edit_as_postfix(postfix, filterd, case):
    assert filterd(case) == postfix[case]


@pytest.mark.parametrize("case", [case for case in CASES if case.startswith("refusal-")])
def test_refusal_as_postfix(postfix, filterd, case):
    assert postfix[case][0] == 1
    assert filterd(case) == postfix[case]


@pytest.mark.parametrize("case", [case for case in CASES if case.startswith("show-")])
def test_show_as_postfix(postfix, filterd, case):
    assert filterd(case) == postfix[case]


def test_invalid_option_as_postfix_but_for_the_options_listed(postfix, filterd):
    theirs, ours = postfix["invalid-option"], filterd("invalid-option")
    assert ours[0] == theirs[0] == 1
    assert ours[2].splitlines()[0] == theirs[2].splitlines()[0] == "postconf: invalid option -- 'z'"
    assert ours[2].splitlines()[1].startswith("postconf: fatal: usage: postconf [-c config_dir] [-d ")


@pytest.mark.parametrize("case", ["command", "command-edit"])
def test_the_filterd_command_as_postfix(postfix, filterd, case):
    def command(directory, argv):
        return run_command([sys.executable, "-m", "filterd", "postconf"], directory, argv)

    assert filterd(case, command) == postfix[case]
