"""filterd as a service, from a shell as an administrator runs it: start, status, reload, stop, with
postfix-script's words and exit statuses; the workers as mail_owner; a reload under load that loses and
duplicates nothing, counted at smtp-sink; and the systemd unit's command lines."""

from __future__ import annotations

import configparser
import os
import re
import signal
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest

from filterd import __version__
from tests.harness import HOST, REPO_ROOT, MtaError, free_port, read_text, wait_until

UNIT = REPO_ROOT / "examples" / "systemd" / "filterd.service"
SCRIPT = "filterd/filterd-script: "
MESSAGES = 2000
RELOADS = 5


class Daemon:
    """A filterd configuration in a directory of its own, driven by `filterd -c DIR COMMAND` as a shell does."""

    def __init__(self, directory: Path, settings: dict[str, str]):
        self.directory = directory
        self.port = free_port()
        self.queue = directory / "queue"
        self.log_path = directory / "filterd.log"
        self.settings = {"myhostname": "filterd.test", "queue_directory": str(self.queue),
                         "maillog_file": str(self.log_path), "filterd_listeners": f"proxy:{HOST}:{self.port}",
                         "filterd_worker_processes": "2", **settings}
        directory.mkdir(parents=True, exist_ok=True)
        self.write()

    def write(self, **changes: str) -> None:
        self.settings.update(changes)
        (self.directory / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in self.settings.items()))

    def environment(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "filterd", "-c", str(self.directory), *args],
                              capture_output=True, text=True, timeout=120, env=self.environment(), input=stdin)

    def settings_line(self, name: str) -> int:
        """The main.cf line that sets `name`."""
        return [line.partition(" =")[0] for line in (self.directory / "main.cf").read_text().splitlines()].index(
            name) + 1

    def pid(self) -> int:
        return int((self.queue / "pid" / "master.pid").read_text())

    def log(self) -> str:
        return read_text(self.log_path)

    def children(self) -> dict[int, str]:
        """The master's workers and queue manager (not anvil, whose counts outlive a reload) and the user each runs
        as, as ps shows them."""
        done = subprocess.run(["ps", "-o", "pid=,user=,comm=", "--ppid", str(self.pid())], capture_output=True,
                              text=True)
        return {int(pid): user for pid, user, comm in (line.split(None, 2) for line in done.stdout.splitlines())
                if comm != "filterd-anvil"}

    def user_of(self, pid: int) -> str:
        return subprocess.run(["ps", "-o", "user=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()

    def kill(self) -> None:
        """Teardown: whatever is left of this filterd, killed by its process group."""
        try:
            os.killpg(self.pid(), signal.SIGKILL)
        except (OSError, ValueError):
            pass


@pytest.fixture
def daemon_factory(mta_dir):
    made: list[Daemon] = []

    def make(settings: dict[str, str] | None = None) -> Daemon:
        daemon = Daemon(mta_dir / f"filterd-{len(made) + 1}", settings or {})
        made.append(daemon)
        return daemon

    yield make
    for daemon in made:
        daemon.kill()


def send(port: int, subject: str = "hello") -> None:
    with smtplib.SMTP(HOST, port, timeout=30) as client:
        client.sendmail("alice@example.org", ["bob@example.net"], f"Subject: {subject}\r\n\r\nbody\r\n")


def test_start_status_reload_stop_answer_as_postfix_does(smtp_sink, daemon_factory):
    daemon = daemon_factory({"filterd_proxy_nexthop": smtp_sink.address})
    assert outcome(daemon.run("status")) == (1, f"{SCRIPT}the filterd mail system is not running\n")
    assert outcome(daemon.run("start")) == (0, f"{SCRIPT}starting the filterd mail system\n")
    pid = daemon.pid()
    assert outcome(daemon.run("start")) == (1, f"{SCRIPT}fatal: the filterd mail system is already running\n")
    assert outcome(daemon.run("status")) == (0, f"{SCRIPT}the filterd mail system is running: PID: {pid}\n")
    send(daemon.port)
    wait_until(lambda: len(daemon.children()) == 2, 10, "two workers")
    old = set(daemon.children())
    assert outcome(daemon.run("reload")) == (0, f"{SCRIPT}refreshing the filterd mail system\n")
    wait_until(lambda: "reload -- version" in daemon.log(), 10, "the reload")
    wait_until(lambda: len(daemon.children()) == 2 and not old & set(daemon.children()), 10, "new workers")
    send(daemon.port)
    assert outcome(daemon.run("stop")) == (0, f"{SCRIPT}stopping the filterd mail system\n")
    assert gone(pid)
    assert outcome(daemon.run("stop")) == (1, f"{SCRIPT}fatal: the filterd mail system is not running\n")
    assert smtp_sink.received() == 2
    log = daemon.log()
    for line in (f"filterd/master[{pid}]: daemon started -- version {__version__}, configuration {daemon.directory}",
                 f"filterd/master[{pid}]: reload -- version {__version__}, configuration {daemon.directory}",
                 f"filterd/master[{pid}]: terminating on signal 15", "filterd/filterd-script[",
                 "]: stopping the filterd mail system"):
        assert line in log
    assert "warning" not in log


def test_a_postfix_parameter_filterd_ignores_is_warned_about_at_start_reload_and_check(smtp_sink, daemon_factory):
    """A Postfix main.cf's `biff = no` starts filterd, the master saying at start and at each reload that it is
    ignored, with its line, as `filterd check-config` says on stderr."""
    daemon = daemon_factory({"filterd_proxy_nexthop": smtp_sink.address, "biff": "no"})
    line = daemon.settings_line("biff")
    warning = f"{daemon.directory}/main.cf, line {line}: biff: Postfix parameter that filterd does not implement: " \
              "ignored"
    assert outcome(daemon.run("check-config")) == (0, f"{SCRIPT}warning: {warning}\n")
    assert outcome(daemon.run("start"))[0] == 0
    said = f"filterd/master[{daemon.pid()}]: warning: {warning}"
    wait_until(lambda: said in daemon.log(), 10, "the warning")
    assert outcome(daemon.run("reload"))[0] == 0
    wait_until(lambda: daemon.log().count(said) == 2, 10, "the warning again at reload")
    assert outcome(daemon.run("stop"))[0] == 0


def gone(pid: int) -> bool:
    """No such process, or only its exit status left for a parent to collect (the daemon's is init)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def outcome(done: subprocess.CompletedProcess[str]) -> tuple[int, str]:
    assert done.stdout == ""
    return done.returncode, done.stderr


def test_the_workers_run_as_mail_owner_and_the_master_as_root(smtp_sink, daemon_factory):
    daemon = daemon_factory({"filterd_listeners": f"relay:{HOST}:{free_port()}", "relayhost": smtp_sink.address})
    assert daemon.run("start").returncode == 0
    wait_until(lambda: len(daemon.children()) == 3, 10, "two workers and the queue manager")
    assert daemon.user_of(daemon.pid()) == "root"
    assert set(daemon.children().values()) == {"filterd"}
    assert {path.name: path.owner() for path in daemon.queue.iterdir()} == {
        "pid": "root", **{queue: "filterd" for queue in
                          ("maildrop", "incoming", "active", "deferred", "hold", "corrupt", "mailboxes")}}


def test_roots_sendmail_feeds_a_queue_that_mail_owner_owns(daemon_factory):
    """Postfix's model: a submission belongs to who made it; the queue manager's pickup makes its own copy."""
    daemon = daemon_factory({"filterd_listeners": f"relay:{HOST}:{free_port()}", "mydestination": "localhost",
                             "queue_run_delay": "1s"})
    assert daemon.run("start").returncode == 0
    assert daemon.run("sendmail", "someone@localhost", stdin="Subject: from root\n\nhello\n").returncode == 0
    wait_until(lambda: "status=sent" in daemon.log(), 20, "the delivery")
    assert re.search(r"filterd/pickup\[\d+\]: \w+: uid=0 from=<root@filterd.test>", daemon.log())
    [delivered] = (daemon.queue / "mailboxes" / "someone" / "Maildir" / "new").iterdir()
    assert delivered.owner() == "filterd"


def test_mail_owner_root_is_refused(daemon_factory):
    daemon = daemon_factory({"mail_owner": "root"})
    done = daemon.run("start")
    assert (done.returncode, done.stderr) == (
        1, f"{SCRIPT}starting the filterd mail system\n"
           f"filterd: fatal: {daemon.directory}/main.cf:6: mail_owner: user root has privileged user ID\n")
    assert daemon.run("check-config").stderr == done.stderr.splitlines(keepends=True)[1]


def test_a_broken_configuration_is_refused_by_reload_and_the_running_one_stays_and_stops(smtp_sink, daemon_factory):
    daemon = daemon_factory({"filterd_proxy_nexthop": smtp_sink.address})
    assert daemon.run("start").returncode == 0
    pid, workers = daemon.pid(), set(daemon.children())
    daemon.write(filterd_plugins="no_such_plugin")
    done = daemon.run("reload")
    assert done.returncode == 1
    assert done.stderr.startswith(f"filterd: fatal: {daemon.directory}/main.cf:7: filterd_plugins: ")
    assert daemon.run("check-config").stderr == done.stderr
    os.kill(pid, signal.SIGHUP)
    wait_until(lambda: "reload refused" in daemon.log(), 10, "the master to refuse the reload")
    assert "warning: reload refused, the running configuration stays: " in daemon.log()
    assert (daemon.pid(), set(daemon.children())) == (pid, workers)
    send(daemon.port)
    assert smtp_sink.received() == 1
    assert outcome(daemon.run("stop")) == (0, f"{SCRIPT}stopping the filterd mail system\n")


def test_a_reload_reads_a_changed_plugin(smtp_sink, daemon_factory):
    daemon = daemon_factory({"filterd_proxy_nexthop": smtp_sink.address, "filterd_plugins": "refuse"})
    plugins = daemon.directory / "plugins"
    plugins.mkdir()
    plugin = "from filterd import Verdict, hookimpl\n\n@hookimpl\ndef end_of_message(message):\n    return Verdict.reject('{}')\n"
    (plugins / "refuse.py").write_text(plugin.format("first words"))
    assert daemon.run("start").returncode == 0
    assert refusal(daemon.port) == "first words"
    (plugins / "refuse.py").write_text(plugin.format("second words"))
    assert daemon.run("reload").returncode == 0
    wait_until(lambda: refusal(daemon.port) == "second words", 10, "the new plugin")


def refusal(port: int) -> str:
    try:
        send(port)
    except smtplib.SMTPDataError as exc:
        return exc.smtp_error.decode().split(" ", 1)[1]
    return ""


def test_stop_lets_an_open_session_finish(smtp_sink, daemon_factory):
    daemon = daemon_factory({"filterd_proxy_nexthop": smtp_sink.address})
    assert daemon.run("start").returncode == 0
    with smtplib.SMTP(HOST, daemon.port, timeout=30) as client:
        client.ehlo()
        assert client.mail("alice@example.org")[0] == 250
        stopping = subprocess.Popen([sys.executable, "-m", "filterd", "-c", str(daemon.directory), "stop"],
                                    env=daemon.environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: "terminating on signal 15" in daemon.log(), 10, "the master to stop")
        assert client.rcpt("bob@example.net")[0] == 250
        assert client.data(b"Subject: late\r\n\r\nbody\r\n")[0] == 250
    assert stopping.wait(30) == 0
    assert smtp_sink.received() == 1
    assert daemon.run("status").returncode == 1


def test_a_reload_under_load_loses_and_duplicates_nothing(smtp_sink_factory, daemon_factory):
    sink = smtp_sink_factory(dump=False)
    relay = free_port()
    daemon = daemon_factory({"filterd_listeners": f"relay:{HOST}:{relay}", "relayhost": f"[{HOST}]:{sink.port}",
                             "mydestination": "", "queue_run_delay": "1s"})
    assert daemon.run("start").returncode == 0
    source = subprocess.Popen(["smtp-source", "-s", "10", "-m", str(MESSAGES), "-f", "alice@example.org",
                               "-t", "bob@example.net", f"{HOST}:{relay}"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    for count in range(1, RELOADS + 1):
        try:
            wait_until(lambda: sink.received() >= count * MESSAGES // (RELOADS + 2), 30, "the load to go on")
        except MtaError as exc:
            raise MtaError(f"{exc}; {sink.received()} at the sink; the log's end:\n{daemon.log()[-4000:]}") from exc
        assert daemon.run("reload").returncode == 0
    assert source.wait(60) == 0, source.stderr.read()
    assert source.stderr.read() == ""
    sink.wait_for(MESSAGES, timeout=60)
    wait_until(lambda: queued(daemon.queue) == 0, 30, "the queue to empty")
    assert sink.received() == MESSAGES
    assert daemon.log().count("reload -- version") == RELOADS
    assert "warning" not in daemon.log()


def queued(queue: Path) -> int:
    return sum(len(os.listdir(queue / name)) for name in ("incoming", "active", "deferred"))


def unit_commands() -> dict[str, str]:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.read_string(UNIT.read_text())
    return dict(unit["Service"])


def test_the_systemd_unit_command_lines_run_the_service(smtp_sink, daemon_factory):
    """systemd is not running here: its command lines are run as it would, with FILTERD_CONFIG for -c."""
    commands = unit_commands()
    assert (commands["type"], commands["pidfile"]) == ("forking", "/var/spool/filterd/pid/master.pid")
    daemon = daemon_factory({"filterd_proxy_nexthop": smtp_sink.address})

    def systemd(key: str) -> subprocess.CompletedProcess[str]:
        program, *args = commands[key].split()
        assert program == "/usr/local/bin/filterd"
        return subprocess.run([sys.executable, "-m", "filterd", *args], capture_output=True, text=True,
                              timeout=120, env={**daemon.environment(), "FILTERD_CONFIG": str(daemon.directory)})

    assert systemd("execstartpre").returncode == 0
    assert systemd("execstart").returncode == 0
    assert re.search(r"PID: \d+\n", daemon.run("status").stderr)
    send(daemon.port)
    assert systemd("execreload").returncode == 0
    send(daemon.port)
    assert systemd("execstop").returncode == 0
    assert daemon.run("status").returncode == 1
    assert smtp_sink.received() == 2
