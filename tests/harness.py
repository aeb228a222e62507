"""Real mail components for integration tests and benchmarks: smtp-sink, Postfix, filterd, swaks.

Every service is a child process started on 127.0.0.1 high ports and stopped by its PID. Daemons
that drop privileges to `postfix` need world-traversable directories: use `make_workdir()`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

HOST = "127.0.0.1"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
POLL_INTERVAL = 0.01
REPO_ROOT = Path(__file__).resolve().parents[1]
LISTEN_STATE = "0A"


class MtaError(RuntimeError):
    """A mail component failed to start, stop or deliver in time."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def peer_name(address: str) -> str:
    """The name smtpd gives a client at `address`: whatever /etc/hosts or DNS says, "unknown" when nothing does."""
    try:
        return socket.getnameinfo((address, 0), socket.NI_NAMEREQD)[0]
    except OSError:
        return "unknown"


CLIENT_NAME = peer_name(HOST)
"""A loopback client's name: localhost where /etc/hosts names 127.0.0.1 localhost first, as most do."""
CLIENT = f"{CLIENT_NAME}[{HOST}]"
"""A loopback client as smtpd logs it: `localhost[127.0.0.1]`."""


def make_workdir(prefix: str = "filterd-mta-") -> Path:
    """Create a directory under /tmp that the postfix user can traverse."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


def chown_postfix(path: Path) -> None:
    """Give a directory to the postfix user, for daemons that drop privileges."""
    shutil.chown(path, user="postfix", group="postfix")


def listening_sockets(port: int) -> int:
    """Count TCP sockets in LISTEN state on a local port, without connecting to them."""
    count = 0
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == LISTEN_STATE and int(fields[1].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def wait_until(predicate: Callable[[], object], timeout: float, what: str,
               alive: Callable[[], None] = lambda: None) -> object:
    """Poll until predicate() is truthy and return it; call alive() between polls to fail early."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        alive()
        if time.monotonic() > deadline:
            raise MtaError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(POLL_INTERVAL)


def process_tree(pid: int) -> list[int]:
    """Return pid and all its living descendants."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = Path("/proc", name, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile (a glob over /proc raised ProcessLookupError then)
        children.setdefault(int(fields[1]), []).append(int(name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def read_text(path: Path) -> str:
    """Return a file's text, or "" if it does not exist."""
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def write_backdated(path: Path, text: str) -> None:
    """Write a file dated a minute ago, so Postfix need not wait for a "hot" main.cf to settle."""
    path.write_text(text)
    past = time.time() - 60
    os.utime(path, (past, past))


def swaks(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run swaks with the given arguments; never raises on a non-zero exit."""
    return subprocess.run(["swaks", *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


class Service:
    """A child process in its own session, started and stopped by PID."""

    name = "service"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        """Return the argv that runs the service."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Write configuration and create directories before start."""

    def ready(self) -> bool:
        """Tell whether the service accepts work."""
        return True

    def environment(self) -> dict[str, str] | None:
        """Return the child's environment (None = inherit)."""
        return None

    @property
    def pid(self) -> int:
        """Return the PID of the process this object started."""
        if self.process is None:
            raise MtaError(f"{self.name} is not running")
        return self.process.pid

    @property
    def stdout_path(self) -> Path:
        """Return the file that receives the process's standard output."""
        return self.directory / f"{self.name}.stdout"

    @property
    def stderr_path(self) -> Path:
        """Return the file that receives the process's standard error."""
        return self.directory / f"{self.name}.stderr"

    def start(self, timeout: float = START_TIMEOUT) -> Self:
        """Start the process and wait until it is ready."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prepare()
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=err, env=self.environment(),
                                            start_new_session=True)
        try:
            wait_until(self.ready, timeout, f"{self.name} to become ready", self.check_alive)
        except MtaError:
            self.stop()
            raise
        return self

    def check_alive(self) -> None:
        """Raise MtaError with the diagnostics if the process has exited."""
        if self.process is not None and self.process.poll() is not None:
            raise MtaError(f"{self.name} exited with status {self.process.returncode}\n"
                           f"{self.diagnostics()}")

    def diagnostics(self) -> str:
        """Return what the service wrote, to explain a failure."""
        return f"--- stderr:\n{read_text(self.stderr_path)}--- stdout:\n{read_text(self.stdout_path)}"

    def request_stop(self) -> None:
        """Ask the process to terminate."""
        self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the process, then kill its process group if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.request_stop()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """Kill the process group this object created and reap its leader."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(STOP_TIMEOUT)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


@dataclass(frozen=True)
class Dump:
    """One message captured by smtp-sink: its envelope and its content with LF line ends."""

    client: str
    helo: str | None
    mail: str
    rcpts: tuple[str, ...]
    content: bytes

    @property
    def sender(self) -> str:
        """Return the MAIL FROM address without brackets or ESMTP parameters."""
        return self.mail.split(None, 1)[0].strip("<>")

    @property
    def recipients(self) -> list[str]:
        """Return the RCPT TO addresses without brackets or ESMTP parameters."""
        return [rcpt.split(None, 1)[0].strip("<>") for rcpt in self.rcpts]


def without_own_received(content: bytes) -> bytes:
    """The delivered message without the Received header its last MTA added (the first header)."""
    lines = content.split(b"\n")
    assert lines[0].startswith(b"Received: "), lines[0]
    end = 1
    while lines[end][:1] in (b" ", b"\t"):
        end += 1
    return b"\n".join(lines[end:])


def parse_dump(raw: bytes) -> Dump:
    """Split an smtp-sink dump file into its envelope records and the message content."""
    fields: dict[str, list[str]] = {}
    lines = raw.split(b"\n")
    for index, line in enumerate(lines):
        name, _, value = line.decode("utf-8", "replace").partition(": ")
        if name == "Received":
            content = b"\n".join(lines[index + 3:])
            break
        fields.setdefault(name, []).append(value)
    else:
        raise ValueError("not an smtp-sink dump: no Received header")
    return Dump(client=fields["X-Client-Addr"][0], helo=fields.get("X-Helo-Args", [None])[0],
                mail=fields["X-Mail-Args"][0], rcpts=tuple(fields.get("X-Rcpt-Args", ())),
                content=content[:-1] if content.endswith(b"\n") else content)


class SmtpSink(Service):
    """Postfix's smtp-sink: one dump file per message, counters in a file.

    Commands named in hard_reject / soft_reject get 500 / 450 replies, those in disconnect
    are answered by hanging up, those in shutdown by 421 (smtp-sink's -f, -r, -q, -Q).
    A message whose "." is rejected is still dumped and counted.
    """

    name = "smtp-sink"
    COUNTERS = re.compile(rb"sess=(\d+) quit=(\d+) mesg=(\d+)")

    def __init__(self, directory: Path, port: int | None = None, *, dump: bool = True,
                 hard_reject: Iterable[str] = (), soft_reject: Iterable[str] = (),
                 disconnect: Iterable[str] = (), shutdown: Iterable[str] = (),
                 extra_args: Sequence[str] = ()) -> None:
        super().__init__(directory)
        self.port = port or free_port()
        self.dump = dump
        self.dump_dir = self.directory / "mail"
        self.options = [*self.command_option("-f", hard_reject), *self.command_option("-r", soft_reject),
                        *self.command_option("-q", disconnect), *self.command_option("-Q", shutdown),
                        *extra_args]

    @staticmethod
    def command_option(flag: str, commands: Iterable[str]) -> list[str]:
        """Return smtp-sink's option for a list of SMTP commands, or nothing."""
        commands = list(commands)
        return [flag, ",".join(commands)] if commands else []

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def prepare(self) -> None:
        self.dump_dir.mkdir(exist_ok=True)
        chown_postfix(self.dump_dir)

    def command(self) -> list[str]:
        dump = ["-d", f"{self.dump_dir}/%M."] if self.dump else []
        return ["smtp-sink", "-c", "-u", "postfix", *dump, *self.options, self.address, "256"]

    def ready(self) -> bool:
        return listening_sockets(self.port) > 0

    def counters(self) -> tuple[int, int, int]:
        """Return smtp-sink's latest (sessions, quits, messages) counters."""
        with self.stdout_path.open("rb") as out:
            out.seek(max(0, out.seek(0, os.SEEK_END) - 200))
            found = self.COUNTERS.findall(out.read())
        return tuple(map(int, found[-1])) if found else (0, 0, 0)

    def received(self) -> int:
        """Return how many messages smtp-sink has received completely."""
        return self.counters()[2]

    def messages(self) -> list[bytes]:
        """Return the dump files' contents, oldest first."""
        files = sorted(self.dump_dir.iterdir(), key=lambda path: (path.stat().st_mtime_ns, path.name))
        return [path.read_bytes() for path in files]

    def dumps(self) -> list[Dump]:
        """Return the dumped messages parsed into envelope and content."""
        return [parse_dump(raw) for raw in self.messages()]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[bytes]:
        """Wait until count messages were received; return the dumps (empty when not dumping)."""
        wait_until(lambda: self.received() >= count, timeout,
                   f"{count} messages at smtp-sink (has {self.received()})", self.check_alive)
        return self.messages() if self.dump else []


def smtpd_listener(port: int, *options: str, maxproc: str = "-") -> str:
    """Return a master.cf smtpd listener on 127.0.0.1:port with `-o name=value` options."""
    lines = [f"{HOST}:{port} inet n - n - {maxproc} smtpd"]
    lines += [f"  -o {option}" for option in options]
    return "\n".join(lines)


MASTER_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
  -o syslog_name=postfix/$service_name
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

REINJECTION_OPTIONS = (
    "smtpd_proxy_filter=",
    "smtpd_authorized_xforward_hosts=127.0.0.0/8",
    "smtpd_client_restrictions=",
    "smtpd_helo_restrictions=",
    "smtpd_sender_restrictions=",
    "smtpd_relay_restrictions=",
    "smtpd_recipient_restrictions=permit_mynetworks,reject",
    "smtpd_data_restrictions=",
    "mynetworks=127.0.0.0/8",
    "receive_override_options=no_unknown_recipient_checks",
)


class Postfix(Service):
    """A private Postfix instance: config in DIR/conf, queue and data under DIR, log in DIR/maillog."""

    name = "postfix"
    LISTENER = re.compile(r"^\S*:(\d+)\s+inet\s", re.M)

    def __init__(self, directory: Path, listeners: Iterable[str],
                 settings: Mapping[str, str] | None = None) -> None:
        super().__init__(directory)
        self.listeners = list(listeners)
        self.ports = [int(port) for port in self.LISTENER.findall("\n".join(self.listeners))]
        self.config_dir = self.directory / "conf"
        self.maillog_path = self.directory / "maillog"
        self.settings = {**self.default_settings(), **(settings or {})}

    @classmethod
    def relay(cls, directory: Path, relay_port: int, settings: Mapping[str, str] | None = None,
              port: int | None = None) -> "Postfix":
        """Build one smtpd listener that relays everything to 127.0.0.1:relay_port."""
        listener = smtpd_listener(port or free_port())
        return cls(directory, [listener], {"relayhost": f"[{HOST}]:{relay_port}", **(settings or {})})

    @classmethod
    def before_queue_proxy(cls, directory: Path, filter_port: int, relay_port: int,
                           settings: Mapping[str, str] | None = None, port: int | None = None,
                           reinject_port: int | None = None) -> "Postfix":
        """Build SMTPD_PROXY_README's layout: smtpd -> filter -> reinjection smtpd -> relayhost."""
        front = smtpd_listener(port or free_port(), f"smtpd_proxy_filter={HOST}:{filter_port}",
                               "smtpd_proxy_options=speed_adjust")
        back = smtpd_listener(reinject_port or free_port(), *REINJECTION_OPTIONS)
        return cls(directory, [front, back], {"relayhost": f"[{HOST}]:{relay_port}", **(settings or {})})

    @property
    def port(self) -> int:
        """Return the first (client-facing) listener's port."""
        return self.ports[0]

    @property
    def reinject_port(self) -> int:
        """Return the second listener's port (the proxy's downstream)."""
        return self.ports[1]

    def default_settings(self) -> dict[str, str]:
        """Return main.cf for a private, loopback-only, DNS-free relay."""
        return {
            "compatibility_level": "3.6",
            "queue_directory": str(self.directory / "queue"),
            "data_directory": str(self.directory / "data"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "postfix.test",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtp_dns_support_level": "disabled",
            "relayhost": "",
            "mydestination": "",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "biff": "no",
            "maillog_file": str(self.maillog_path),
            "maillog_file_prefixes": str(self.directory),
            "smtp_tls_security_level": "none",
            "smtpd_tls_security_level": "none",
            "smtp_connection_cache_on_demand": "yes",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "smtpd_error_sleep_time": "0",
            "smtp_connect_timeout": "5s",
        }

    def prepare(self) -> None:
        for name in ("conf", "queue"):
            (self.directory / name).mkdir(exist_ok=True)
        data = self.directory / "data"
        data.mkdir(exist_ok=True)
        chown_postfix(data)
        main_cf = "".join(f"{name} = {value}\n" for name, value in self.settings.items())
        write_backdated(self.config_dir / "main.cf", main_cf)
        write_backdated(self.config_dir / "master.cf", "\n".join([*self.listeners, MASTER_SERVICES]))

    def command(self) -> list[str]:
        return ["postfix", "-c", str(self.config_dir), "start-fg"]

    def ready(self) -> bool:
        return all(listening_sockets(port) for port in self.ports)

    def diagnostics(self) -> str:
        return f"{super().diagnostics()}--- maillog:\n{self.maillog()}"

    def request_stop(self) -> None:
        subprocess.run(["postfix", "-c", str(self.config_dir), "stop"], capture_output=True,
                       timeout=STOP_TIMEOUT, stdin=subprocess.DEVNULL)

    def maillog(self) -> str:
        """Return the maillog so far."""
        return read_text(self.maillog_path)

    def wait_log(self, pattern: str, count: int = 1, timeout: float = 10.0) -> list[str]:
        """Wait until count maillog lines match the regex pattern; return the matching lines."""
        regex = re.compile(pattern)

        def matching() -> list[str]:
            lines = [line for line in self.maillog().splitlines() if regex.search(line)]
            return lines if len(lines) >= count else []

        return wait_until(matching, timeout, f"{count} maillog lines matching {pattern!r}",
                          self.check_alive)

    def wait_listening(self, port: int, timeout: float = START_TIMEOUT) -> None:
        """Wait until a TCP port of this instance is in LISTEN state."""
        wait_until(lambda: listening_sockets(port), timeout, f"port {port}", self.check_alive)

    def postconf(self, *args: str) -> str:
        """Run postconf on this instance's configuration and return its output."""
        result = subprocess.run(["postconf", "-c", str(self.config_dir), *args], capture_output=True,
                                text=True, check=True, stdin=subprocess.DEVNULL)
        return result.stdout


class FilterdProcess(Service):
    """filterd in the foreground (`filterd -c main.cf start-fg`) with a generated main.cf.

    A settings value of None removes a default. The repository root is put on PYTHONPATH so that
    plugins from bench/ or tests/ can be named by module path.
    """

    name = "filterd"

    def __init__(self, directory: Path, settings: Mapping[str, str | None] | None = None, *,
                 port: int | None = None, nexthop_port: int | None = None,
                 command: Sequence[str] = (sys.executable, "-m", "filterd")) -> None:
        super().__init__(directory)
        self.port = port or free_port()
        self.config_path = self.directory / "main.cf"
        self.log_path = self.directory / "filterd.log"
        self.base_command = list(command)
        merged = {**self.default_settings(nexthop_port), **(settings or {})}
        self.settings = {name: value for name, value in merged.items() if value is not None}

    def default_settings(self, nexthop_port: int | None) -> dict[str, str]:
        """Return the defaults: a proxy on self.port, logging to DIR/filterd.log, one worker."""
        settings = {
            "myhostname": "filterd.test",
            "queue_directory": str(self.directory / "queue"),
            "maillog_file": str(self.log_path),
            "filterd_listeners": f"proxy:{HOST}:{self.port}",
            "filterd_worker_processes": "1",
        }
        if nexthop_port:
            settings["filterd_proxy_nexthop"] = f"{HOST}:{nexthop_port}"
        return settings

    def prepare(self) -> None:
        (self.directory / "queue").mkdir(exist_ok=True)
        lines = [f"{name} = {value}\n" for name, value in self.settings.items()]
        self.config_path.write_text("".join(lines))

    def command(self) -> list[str]:
        return [*self.base_command, "-c", str(self.config_path), "start-fg"]

    def environment(self) -> dict[str, str]:
        path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        return {**os.environ, "PYTHONPATH": path}

    def ready(self) -> bool:
        return listening_sockets(self.port) > 0

    def diagnostics(self) -> str:
        return f"{super().diagnostics()}--- filterd.log:\n{self.log()}"

    def log(self) -> str:
        """Return filterd's maillog so far."""
        return read_text(self.log_path)

    def pids(self) -> list[int]:
        """Return the PIDs of filterd's master and all its descendants."""
        return process_tree(self.pid)
