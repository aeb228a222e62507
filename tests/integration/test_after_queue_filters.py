"""After-queue content filters with real components: Postfix with filterd as its content_filter (FILTER_README's
advanced filter, from examples/postfix/after-queue), filterd's pipe plugin running spamc against a real spamd and
commands that fail, hang or are killed, its SMTP filter pointing at a second filterd, and filter loops."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.scanners import GTUBE, Spamd
from tests.harness import HOST, REPO_ROOT, FilterdProcess, free_port, smtpd_listener, swaks, wait_until

EXAMPLE = REPO_ROOT / "examples" / "postfix" / "after-queue"
FAST_QUEUE = {"queue_run_delay": "1s", "minimal_backoff_time": "1s", "maximal_backoff_time": "2s",
              "smtp_dns_support_level": "disabled", "mydestination": "localhost", "smtpd_error_sleep_time": "0"}


def main_cf(path: Path, ports: dict[str, int]) -> dict[str, str]:
    """A main.cf example's settings, its example ports replaced by the test's."""
    text = _ports(path.read_text(), ports)
    pairs = (line.partition("=")[::2] for line in text.splitlines() if line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def _ports(text: str, ports: dict[str, int]) -> str:
    return re.sub(r"\b(10025|10026)\b", lambda m: str(ports[m.group(1)]), text)


def send(port: int, recipients: list[str], subject: str = "after queue", body: bytes = b"hello") -> None:
    content = f"From: alice@example.org\r\nSubject: {subject}\r\nMessage-ID: <{free_port()}@test>\r\n\r\n".encode()
    with smtplib.SMTP(HOST, port, timeout=30) as client:
        client.sendmail("alice@example.org", recipients, content + body + b"\r\n")


def queued(relay) -> list[str]:
    spool = relay.directory / "queue"
    return [p.name for queue in ("incoming", "active", "deferred") for p in (spool / queue).glob("*")]


QUEUED = {"filterd_listeners": "relay:127.0.0.1:10025", "relayhost": "[127.0.0.1]:10026",
          "smtp_send_xforward_command": "yes", "filterd_proxy_nexthop": None}
"""The example's filterd.cf as a relay that queues the message before it hands it back (bench/after_queue's
advanced-queued)."""


def advanced(postfix_factory, filterd_factory, smtp_sink, queued: bool = False, **settings):
    """Postfix with filterd as its content_filter, from examples/postfix/after-queue (with `queued`, filterd's
    relay in place of the filter listener)."""
    ports = {"10025": free_port(), "10026": free_port()}
    main = {**main_cf(EXAMPLE / "main.cf", ports), "relayhost": f"[{HOST}]:{smtp_sink.port}"}
    front = smtpd_listener(free_port(), "smtpd_authorized_xforward_hosts=127.0.0.0/8")
    postfix = postfix_factory([front, _ports((EXAMPLE / "master.cf").read_text(), ports)], main)
    ours = main_cf(EXAMPLE / "filterd.cf", ports)
    if queued:
        ours.update({k: v and _ports(v, ports) for k, v in QUEUED.items()})
    filterd = filterd_factory({**FAST_QUEUE, **ours, "filterd_plugins": "tests.fixtures.plugins.after_queue",
                               **settings}, port=ports["10025"])
    return postfix, filterd, ports


@pytest.mark.parametrize("queued", [False, True], ids=["filter", "relay"])
def test_postfix_with_filterd_as_its_content_filter_logs_the_original_client(postfix_factory, filterd_factory,
                                                                            smtp_sink, queued):
    postfix, filterd, ports = advanced(postfix_factory, filterd_factory, smtp_sink, queued)
    result = swaks("--server", f"{HOST}:{postfix.port}", "--from", "alice@example.org", "--to", "bob@example.net",
                   "--ehlo", "client.example", "--header", "Subject: advanced")
    assert result.returncode == 0, result.stdout
    [dump] = smtp_sink.wait_for(1, timeout=60)
    assert b"X-After-Queue: checked " in dump
    [line] = postfix.wait_log(r"orig_client=", timeout=30)
    assert "orig_client=localhost[127.0.0.1]" in line and "orig_queue_id=" in line
    first = re.search(r"postfix/smtpd\[\d+\]: (\w+): client=localhost\[127\.0\.0\.1\]$", postfix.maillog(), re.M)
    assert (f"orig_queue_id={first.group(1)}" in line) is not queued  # the relay's own queue id when it queued
    postfix.wait_log(rf"relay=127.0.0.1\[127.0.0.1\]:{ports['10025']}, .*status=sent", timeout=30)
    assert smtp_sink.received() == 1
    assert "client=localhost[127.0.0.1]" in filterd.log()
    assert list((filterd.directory / "queue").rglob("incoming/*")) == []


@pytest.mark.parametrize("queued", [False, True], ids=["filter", "relay"])
def test_a_client_from_the_internet_passes_through_filterd_as_postfix_s_orig_client(postfix_factory, filterd_factory,
                                                                                   smtp_sink, queued):
    """The client Postfix had the message from (here given to Postfix's front smtpd by XFORWARD: tests connect from
    loopback only) reaches filterd in the scan transport's XFORWARD and goes on to the 10026 smtpd."""
    postfix, filterd, ports = advanced(postfix_factory, filterd_factory, smtp_sink, queued)
    content = b"From: alice@example.org\r\nSubject: from afar\r\n\r\nhello\r\n"
    with smtplib.SMTP(HOST, postfix.port, timeout=30) as client:
        client.ehlo("client.example")
        assert client.docmd("XFORWARD", "NAME=mail.example ADDR=192.0.2.7 PORT=4321 HELO=mail.example")[0] == 250
        client.sendmail("alice@example.org", ["bob@example.net"], content)
    [dump] = smtp_sink.wait_for(1, timeout=60)
    assert b"X-After-Queue: checked " in dump
    [line] = postfix.wait_log(r"orig_queue_id=.*orig_client=", timeout=30)
    assert "orig_client=mail.example[192.0.2.7]" in line
    assert "client=mail.example[192.0.2.7]" in filterd.log()


def test_the_filter_listener_runs_the_after_queue_stage_and_postfix_keeps_its_verdict(postfix_factory,
                                                                                     filterd_factory, smtp_sink):
    postfix, filterd, ports = advanced(postfix_factory, filterd_factory, smtp_sink)
    for subject in ("AQ-REJECT", "AQ-DISCARD", "AQ-REDIRECT", "plain"):
        send(postfix.port, ["bob@example.net"], subject)
    dumps = smtp_sink.wait_for(3, timeout=60)
    subjects = sorted(d.split(b"Subject: ")[1].split(b"\n")[0] for d in dumps)
    assert subjects == [b"AQ-REDIRECT", b"Undelivered Mail Returned to Sender", b"plain"]
    [redirected] = [d for d in smtp_sink.dumps() if b"AQ-REDIRECT" in d.content]
    assert redirected.recipients == ["archive@example.net"]
    [bounced] = postfix.wait_log(rf"relay=127.0.0.1\[127.0.0.1\]:{ports['10025']}, .*status=bounced", timeout=30)
    assert "dsn=5.7.1" in bounced and "Refused after queue" in bounced
    postfix.wait_log(rf"relay=127.0.0.1\[127.0.0.1\]:{ports['10025']}, .*status=sent", count=3, timeout=30)
    assert smtp_sink.received() == 3


def test_the_filter_listener_keeps_its_session_to_the_reinjection_smtpd(postfix_factory, filterd_factory,
                                                                       smtp_sink):
    postfix, filterd, ports = advanced(postfix_factory, filterd_factory, smtp_sink,
                                       smtp_connection_cache_time_limit="30s")
    for number in range(3):
        send(postfix.port, ["bob@example.net"], f"message {number}")
        smtp_sink.wait_for(number + 1, timeout=60)
    lines = postfix.wait_log(r"orig_client=", count=3, timeout=30)
    pids = {re.search(r"smtpd\[(\d+)\]", line).group(1) for line in lines}
    assert len(pids) == 1
    [pid] = pids
    assert len(re.findall(rf"smtpd\[{pid}\]: connect from", postfix.maillog())) == 1


def test_filterd_killed_inside_the_filter_leaves_the_message_in_postfix_s_queue_delivered_once(
        postfix_factory, filterd_factory, smtp_sink, scratch):
    started, release = scratch / "started", scratch / "release"
    command = script(scratch, "held.sh", f'touch {started}\nwhile [ ! -e {release} ]; do sleep 0.1; done\ncat\n')
    postfix, filterd, ports = advanced(postfix_factory, filterd_factory, smtp_sink, filterd_plugins="pipe",
                                       filterd_pipe_command=str(command))
    send(postfix.port, ["bob@example.net"])
    wait_until(started.exists, 30, "the filter to start")
    for pid in reversed(filterd.pids()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    filterd.kill()
    postfix.wait_log(r"status=deferred", timeout=30)
    assert smtp_sink.received() == 0
    release.touch()
    filterd.start()
    subprocess.run(["postqueue", "-c", str(postfix.config_dir), "-f"], check=True, capture_output=True)
    smtp_sink.wait_for(1, timeout=60)
    postfix.wait_log(rf"relay=127.0.0.1\[127.0.0.1\]:{ports['10025']}, .*status=sent", timeout=30)
    assert smtp_sink.received() == 1


@pytest.fixture(scope="module")
def spamd(tmp_path_factory):
    with Spamd(tmp_path_factory.mktemp("spamd")) as service:
        yield service


@pytest.fixture
def pipe_relay(filterd_factory, smtp_sink):
    def start(command: str, **settings: str):
        port = free_port()
        return filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:{HOST}:{port}",
                                "relayhost": f"[{HOST}]:{smtp_sink.port}", "filterd_plugins": "pipe",
                                "filterd_pipe_command": command, **settings}, port=port)
    return start


def test_spamc_through_the_pipe_plugin_flags_gtube(pipe_relay, smtp_sink, spamd):
    relay = pipe_relay(f"/usr/bin/spamc -d {HOST} -p {spamd.port}")
    send(relay.port, ["bob@example.net"], "spam", GTUBE)
    [dump] = smtp_sink.wait_for(1, timeout=60)
    assert b"X-Spam-Flag: YES" in dump and GTUBE in dump


@pytest.fixture
def scratch(mta_dir) -> Path:
    """A directory that filterd's unprivileged queue manager (mail_owner) can run scripts from and write to."""
    path = mta_dir / "scratch"
    path.mkdir()
    path.chmod(0o777)
    return path


def script(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_exit_75_defers_and_the_retry_delivers_once(pipe_relay, smtp_sink, scratch):
    flag = scratch / "failed-once"
    command = script(scratch, "tempfail.sh", f'cat >/dev/null\nif [ ! -e {flag} ]; then touch {flag}; '
                                              'echo "try later" >&2; exit 75; fi\nexit 0\n')
    relay = pipe_relay(str(command), filterd_pipe_mode="check")
    send(relay.port, ["bob@example.net"])
    smtp_sink.wait_for(1, timeout=60)
    log = relay.log()
    assert "temporary failure. Command output: try later" in log
    assert smtp_sink.received() == 1


def test_a_hanging_filter_times_out_and_the_message_is_deferred_not_lost(pipe_relay, smtp_sink, scratch):
    flag = scratch / "hung-once"
    command = script(scratch, "hang.sh", f'if [ ! -e {flag} ]; then touch {flag}; sleep 600; fi\ncat\n')
    relay = pipe_relay(str(command), filterd_pipe_time_limit="2s")
    send(relay.port, ["bob@example.net"])
    [dump] = smtp_sink.wait_for(1, timeout=60)
    assert "Command time limit exceeded" in relay.log()
    assert b"Subject: after queue" in dump and smtp_sink.received() == 1


def test_a_recipient_full_of_shell_metacharacters_is_one_argument(pipe_relay, smtp_sink, scratch):
    arguments = scratch / "argv"
    command = script(scratch, "args.sh", f'for a in "$@"; do printf "%s\\n" "$a"; done > {arguments}\ncat\n')
    relay = pipe_relay(f"{command} -f ${{sender}} -- ${{recipient}}")
    nasty = '"x;touch /tmp/pwned`id`$(id)|&>"@example.net'
    send(relay.port, [nasty])
    smtp_sink.wait_for(1, timeout=60)
    assert arguments.read_text().splitlines() == ["-f", "alice@example.org", "--", nasty]
    assert not Path("/tmp/pwned").exists()


def test_kill_9_while_the_filter_runs_keeps_the_message_and_delivers_it_once(pipe_relay, smtp_sink, scratch):
    started, release = scratch / "started", scratch / "release"
    command = script(scratch, "held.sh", f'touch {started}\nwhile [ ! -e {release} ]; do sleep 0.1; done\ncat\n')
    relay = pipe_relay(str(command))
    send(relay.port, ["bob@example.net"])
    wait_until(started.exists, 30, "the filter to start")
    for pid in reversed(relay.pids()):
        if pid != relay.pid:
            with contextlib.suppress(ProcessLookupError):  # the filter's `sleep 0.1` comes and goes
                os.kill(pid, signal.SIGKILL)
    relay.kill()
    assert len(queued(relay)) == 1
    release.touch()
    relay.start()
    smtp_sink.wait_for(1, timeout=60)
    wait_until(lambda: not queued(relay), 30, "the queue to empty")
    assert smtp_sink.received() == 1


def test_the_smtp_filter_sends_to_a_second_filterd_that_reinjects(filterd_factory, smtp_sink):
    front, reinject, scan = free_port(), free_port(), free_port()
    first = filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:{HOST}:{front} reinject:{HOST}:{reinject}",
                             "relayhost": f"[{HOST}]:{smtp_sink.port}", "filterd_plugins": "smtp_filter",
                             "filterd_smtp_filter": f"scan:[{HOST}]:{scan}", "filterd_filters": "scan"}, port=front)
    filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:{HOST}:{scan}", "relayhost": f"[{HOST}]:{reinject}",
                     "filterd_plugins": "tests.fixtures.plugins.after_queue", "smtpd_authorized_xforward_hosts":
                     "127.0.0.0/8", "smtp_send_xforward_command": "yes"}, port=scan)
    send(front, ["bob@example.net"], "through the scanner")
    [dump] = smtp_sink.wait_for(1, timeout=60)
    assert dump.count(b"X-After-Queue: checked ") == 1
    wait_until(lambda: f"relay=127.0.0.1[127.0.0.1]:{scan}, delay=" in first.log(), 30, "the filter delivery")
    assert smtp_sink.received() == 1


def test_a_filter_that_says_5xx_bounces_and_4xx_defers(relay_to, smtp_sink_factory):
    rejecting = smtp_sink_factory(hard_reject=["DATA"])
    relay = relay_to(f"smtp:[{HOST}]:{rejecting.port}")
    send(relay.port, ["bob@example.net"])
    wait_until(lambda: "status=bounced" in relay.log(), 30, "the bounce")
    deferring = smtp_sink_factory(soft_reject=["RCPT"])
    relay = relay_to(f"smtp:[{HOST}]:{deferring.port}")
    send(relay.port, ["bob@example.net"])
    wait_until(lambda: "status=deferred" in relay.log(), 30, "the deferral")
    assert len(queued(relay)) == 1


@pytest.fixture
def relay_to(filterd_factory, smtp_sink):
    def start(content_filter: str, **settings: str):
        port = free_port()
        return filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:{HOST}:{port}",
                                "relayhost": f"[{HOST}]:{smtp_sink.port}", "content_filter": content_filter,
                                **settings}, port=port)
    return start


def test_a_filter_that_reinjects_into_the_filtered_listener_is_a_loop_that_bounces(filterd_factory, smtp_sink):
    port = free_port()
    relay = filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:{HOST}:{port}",
                             "relayhost": f"[{HOST}]:{smtp_sink.port}", "content_filter": f"smtp:[{HOST}]:{port}",
                             "hopcount_limit": "5", "mydestination": "localhost"}, port=port)
    send(port, ["bob@example.net"], "loop")
    wait_until(lambda: "filter loop: 5 Received: headers, hopcount_limit is 5" in relay.log(), 60, "the loop found")
    [bounce] = [smtp_sink.dumps()[0] for _ in smtp_sink.wait_for(1, timeout=60)]
    assert bounce.sender == "" and bounce.recipients == ["alice@example.org"]
    assert b"too many hops" in bounce.content


def test_a_filter_action_from_header_checks_routes_through_the_named_filter(filterd_factory, smtp_sink_factory,
                                                                            tmp_path):
    scanner, sink = smtp_sink_factory(), smtp_sink_factory()
    checks = tmp_path / "header_checks"
    checks.write_text(f"/^Subject: scan me/ FILTER scan:[{HOST}]:{scanner.port}\n")
    port = free_port()
    relay = filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:{HOST}:{port}",
                             "relayhost": f"[{HOST}]:{sink.port}", "filterd_plugins": "header_checks",
                             "header_checks": f"regexp:{checks}", "filterd_filters": "scan"}, port=port)
    send(port, ["bob@example.net"], "scan me")
    send(port, ["bob@example.net"], "leave me")
    scanner.wait_for(1, timeout=60)
    sink.wait_for(1, timeout=60)
    assert b"scan me" in scanner.messages()[0] and b"leave me" in sink.messages()[0]
    assert "filter: header Subject: scan me" in relay.log()


SIMPLE = REPO_ROOT / "examples" / "postfix" / "simple-filter"
FILTER_USER = "nobody"


def simple_filter_command(directory: Path) -> Path:
    """`filterd` for pipe(8)'s unprivileged user: the system's Python 3.11 with this interpreter's packages and a
    copy of filterd's code (the test's own interpreter and the clone may live where that user cannot go, /root)."""
    import sysconfig

    code = directory / "code"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO_ROOT / "filterd", code / "filterd", ignore=ignore)
    shutil.copytree(REPO_ROOT / "plugins", code / "filterd" / "plugins", ignore=ignore)
    shutil.copytree(REPO_ROOT / "policies", code / "filterd" / "policies", ignore=ignore)
    shutil.copytree(REPO_ROOT / "tests" / "fixtures" / "plugins", code / "tests" / "fixtures" / "plugins",
                    ignore=ignore)
    for package in (code / "tests", code / "tests" / "fixtures"):
        (package / "__init__.py").touch()
    for path in [directory, *code.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    wrapper = directory / "filterd"
    wrapper.write_text(
        "#!/bin/sh\nexec /usr/bin/python3 -c 'import site, sys; "
        f"site.addsitedir(\"{sysconfig.get_paths()['purelib']}\"); sys.path.insert(0, \"{code}\"); "
        "from filterd.cli import main; sys.exit(main())' \"$@\"\n")
    wrapper.chmod(0o755)
    return wrapper


class PipeService(FilterdProcess):
    """The resident filterd of examples/postfix/simple-filter, ready once its pipe socket answers."""

    def __init__(self, directory: Path, settings: dict[str, str], socket_path: Path):
        super().__init__(directory, settings)
        self.socket_path = socket_path

    def ready(self) -> bool:
        with socket.socket(socket.AF_UNIX) as sock:
            return sock.connect_ex(str(self.socket_path)) == 0


def simple_filter_settings(scratch: Path, reinject: int) -> dict[str, str]:
    """filterd.cf of the example, its port, socket, plugin and log the test's."""
    text = (SIMPLE / "filterd.cf").read_text().replace("/run/filterd/pipe", str(scratch / "pipe.sock"))
    pairs = (line.partition("=")[::2] for line in _ports(text, {"10026": reinject}).splitlines()
             if line and not line.startswith("#"))
    settings = {name.strip(): value.strip() for name, value in pairs}
    del settings["header_checks"]
    return {**settings, "filterd_plugins": "tests.fixtures.plugins.after_queue",
            "maillog_file": str(scratch / "filterd.log"), "queue_directory": str(scratch)}


def c_client_command(c_client: Path, directory: Path) -> Path:
    """filterd-pipe where pipe(8)'s unprivileged user can run it (the session's build may be under /root)."""
    program = directory / "filterd-pipe"
    shutil.copy(c_client, program)
    program.chmod(0o755)
    return program


def simple_filter_postfix(postfix_factory, smtp_sink, scratch: Path, settings: dict[str, str], reinject: int,
                          command: Path):
    """Postfix with the example's master.cf, running `COMMAND -c scratch/main.cf pipe` as nobody: filterd-pipe, or
    `filterd` in its place as the example says."""
    config = scratch / "main.cf"
    config.write_text("".join(f"{name} = {value}\n" for name, value in settings.items()))
    (scratch / "filterd.log").touch()
    (scratch / "filterd.log").chmod(0o666)
    port = free_port()
    master = _ports((SIMPLE / "master.cf").read_text(), {"10026": reinject}).replace("smtp      inet",
                                                                                     f"{HOST}:{port} inet")
    example = "/usr/local/bin/filterd-pipe -c /etc/filterd/main.cf"
    assert example in master
    master = master.replace("user=filter", f"user={FILTER_USER}").replace(example, f"{command} -c {config}")
    return postfix_factory([master], {"relayhost": f"[{HOST}]:{smtp_sink.port}"})


@pytest.fixture(params=["c-client", "service", "in-process"])
def simple_filter(request, postfix_factory, mta_launcher, smtp_sink, scratch, c_client):
    """Postfix with filterd as its simple filter: through the resident pipe service with filterd-pipe (the
    example as it is) or with `filterd pipe` as its client, or with `filterd pipe` filtering in its own process
    (the example without its two pipe lines)."""
    reinject = free_port()
    settings = simple_filter_settings(scratch, reinject)
    if request.param == "in-process":
        del settings["filterd_listeners"], settings["filterd_pipe_service"]
    else:
        mta_launcher.launch(PipeService(mta_launcher.directory("filterd"), settings, scratch / "pipe.sock"))
    command = (c_client_command(c_client, scratch) if request.param == "c-client"
               else simple_filter_command(scratch))
    return (simple_filter_postfix(postfix_factory, smtp_sink, scratch, settings, reinject, command),
            scratch / "filterd.log")


def test_filterd_pipe_as_postfix_s_simple_filter(simple_filter, smtp_sink):
    postfix, log = simple_filter
    result = swaks("--server", f"{HOST}:{postfix.port}", "--from", "alice@example.org", "--to", "bob@example.net",
                   "--header", "Subject: simple")
    assert result.returncode == 0, result.stdout
    [dump] = smtp_sink.wait_for(1, timeout=60)
    assert b"X-After-Queue: checked " in dump and b"Subject: simple" in dump
    postfix.wait_log(r"relay=filter, .*status=sent", timeout=30)
    postfix.wait_log(r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=sent", timeout=30)
    assert smtp_sink.received() == 1


def test_filterd_pipe_refusing_exits_69_and_postfix_bounces_with_its_reason(simple_filter, smtp_sink):
    postfix, log = simple_filter
    swaks("--server", f"{HOST}:{postfix.port}", "--from", "alice@example.org", "--to", "bob@example.net",
          "--header", "Subject: AQ-REJECT")
    [line] = postfix.wait_log(r"relay=filter, .*status=bounced", timeout=60)
    assert "dsn=5.7.1, status=bounced (Refused after queue" in line


@pytest.mark.parametrize("client", ["c-client", "python"])
def test_the_pipe_service_down_defers_and_the_message_is_delivered_once_it_runs(postfix_factory, mta_launcher,
                                                                                smtp_sink, scratch, c_client,
                                                                                client):
    reinject = free_port()
    settings = simple_filter_settings(scratch, reinject)
    command = c_client_command(c_client, scratch) if client == "c-client" else simple_filter_command(scratch)
    postfix = simple_filter_postfix(postfix_factory, smtp_sink, scratch, settings, reinject, command)
    swaks("--server", f"{HOST}:{postfix.port}", "--from", "alice@example.org", "--to", "bob@example.net",
          "--header", "Subject: while filterd is down")
    [line] = postfix.wait_log(r"relay=filter, .*status=deferred", timeout=60)
    assert "dsn=4.3.0, status=deferred (cannot connect to the filterd pipe service unix:" in line, line
    mta_launcher.launch(PipeService(mta_launcher.directory("filterd"), settings, scratch / "pipe.sock"))
    subprocess.run(["postqueue", "-c", str(postfix.config_dir), "-f"], check=True, capture_output=True)
    [dump] = smtp_sink.wait_for(1, timeout=60)
    assert b"X-After-Queue: checked " in dump and b"Subject: while filterd is down" in dump
    log = (scratch / "filterd.log").read_text()
    assert re.search(r"filterd/pipe\[\d+\]: \w+: from=<alice@example.org>, nrcpt=1, status=sent\n", log), log
