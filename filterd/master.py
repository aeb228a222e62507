"""The master process: binds the listeners once, forks the worker processes that share them and the queue manager,
restarts the dead, reloads on SIGHUP and stops on SIGTERM, letting sessions finish.

Like Postfix's master(8) with many smtpd processes: a Python process saturates one core, so
filterd_worker_processes workers accept on the same sockets. The master stays root (it binds the sockets of a
reload); its children run as mail_owner. A reload starts a new generation of children on the same sockets and
tells the old one to finish its sessions and leave, so no connection is refused and no message lost.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from filterd import __version__, maillog, processes
from filterd.anvil.server import bind_anvil
from filterd.assembly import Listener, listeners, load_tls, smtp_listening
from filterd.config import Config, ConfigError
from filterd.daemon import PidFile, Readiness, pid_path
from filterd.fatal import FatalError
from filterd.loading import Loaded, forget_modules, load
from filterd.privileges import MailOwner, mail_owner
from filterd.queue.spool import QUEUES, Spool
from filterd.domain_list import DomainList
from filterd.tables import TableError, open_tables

_RESTART_DELAY = 1.0
_KILL_GRACE = 5.0
_TICK = 0.5
QUEUE_TABLES = ("transport_maps", "virtual_alias_maps", "relocated_maps", "virtual_mailbox_maps", "canonical_maps",
                "sender_canonical_maps", "recipient_canonical_maps", "sender_bcc_maps", "recipient_bcc_maps")
QUEUE_MODE = 0o700
"""The queues are mail_owner's alone, as Postfix's are `postfix`'s; root's tools read them all the same."""
MAILDROP_MODE = 0o1733
"""Anyone may drop a file in, no one but mail_owner list or take one: Postfix's maildrop before postdrop was
setgid (filterd sendmail is no setgid program)."""
HANDLED = {signal.SIGCHLD, signal.SIGHUP, signal.SIGTERM, signal.SIGINT}


def create_spool(config: Config, owner: MailOwner | None = None) -> Spool:
    """The queue directories, made before the processes that use them and given to mail_owner (the pid
    directory stays the master's); a failure names queue_directory's line."""
    try:
        spool = Spool(config.get("queue_directory")).create()
        if owner is not None:
            for queue in QUEUES:
                owner.give(spool.root / queue)
                (spool.root / queue).chmod(MAILDROP_MODE if queue == "maildrop" else QUEUE_MODE)
    except OSError as exc:
        raise config.error("queue_directory", f"mkdir {exc.filename}: {exc.strerror or exc}") from exc
    return spool


def create_data_directory(config: Config, name: str, owner: MailOwner | None) -> None:
    """A directory the children write (the sink's, the mailboxes'), made by root and given to mail_owner."""
    path = Path(config.get(name))
    try:
        path.mkdir(parents=True, exist_ok=True)
        if owner is not None:
            owner.give(path)
    except OSError as exc:
        raise config.error(name, f"mkdir {exc.filename}: {exc.strerror or exc}") from exc


def open_queue_tables(config: Config) -> None:
    """Open the queue manager's tables once here, so that a missing one stops start-up instead of the qmgr."""
    for name in QUEUE_TABLES:
        try:
            open_tables(config.get(name))
        except TableError as exc:
            raise config.error(name, str(exc)) from exc
    for name in ("virtual_alias_domains", "virtual_mailbox_domains"):
        try:
            DomainList.from_config(config, name, exact=True)
        except TableError as exc:
            raise config.error(name, str(exc)) from exc


def check_config(config: Config) -> MailOwner | None:
    """What `filterd check-config` and a reload check beyond loading: the queue's tables, and mail_owner when
    running as root. Returns the user the children will run as."""
    open_queue_tables(config)
    return mail_owner(config)


def bind_all(wanted: list[Listener], have: dict[Listener, socket.socket] | None = None,
             ) -> list[tuple[Listener, socket.socket]]:
    """Every listener's socket, reusing those in `have`; when one cannot be bound, those newly bound are closed
    again."""
    have = have or {}
    bound: list[tuple[Listener, socket.socket]] = []
    try:
        for listener in wanted:
            bound.append((listener, have.get(listener) or listener.bind()))
    except FatalError:
        for listener, sock in bound:
            if listener not in have:
                sock.close()
        raise
    return bound


def anvil_wanted(config: Config) -> bool:
    """anvil runs when an SMTP listener has a client connection, AUTH, MAIL or RCPT limit in force."""
    limited = any(config.int(f"smtpd_client_{name}_limit") > 0 for name in (
        "connection_count", "connection_rate", "auth_rate", "message_rate", "recipient_rate"))
    return limited and smtp_listening(config)


def _relays(config: Config) -> bool:
    return any(listener.mode == "relay" for listener in listeners(config))


def _sinks(config: Config) -> bool:
    return any(listener.mode == "sink" for listener in listeners(config))


@dataclass
class Child:
    """A process the master forked: what it is, of which generation (a reload starts the next), when."""

    kind: str
    generation: int
    started: float


class Master:
    """Forks, watches, reloads and stops the children."""

    def __init__(self, loaded: Loaded, overrides: dict[str, str] | None = None,
                 readiness: Readiness | None = None, pid_file_required: bool = False):
        self.loaded = loaded
        self.overrides = overrides or {}
        self.readiness = readiness
        self.pid_file_required = pid_file_required
        self.children: dict[int, Child] = {}
        self.generation = 0
        self.stopping = False
        self.kill_at = 0.0
        self.hold_until: dict[str, float] = {}
        self.bound: list[tuple[Listener, socket.socket]] = []
        self.owner: MailOwner | None = None
        self.pid_file: PidFile | None = None
        self.anvil_path: str | None = None

    @property
    def count(self) -> int:
        return max(1, self.loaded.config.int("filterd_worker_processes"))

    def run(self) -> int:
        try:
            self._prepare()
        except (ConfigError, FatalError) as exc:
            maillog.log.critical("%s", exc, extra={"service": "master"})
            if self.pid_file is not None:
                self.pid_file.close()
            if self.readiness is not None:
                self.readiness.failed(str(exc))
            raise
        maillog.info("master", "daemon started -- version %s, configuration %s", __version__,
                     os.path.dirname(self.loaded.path))
        for line in self.loaded.ignored_lines():
            maillog.warning("master", "%s", line)
        for listener, _ in self.bound:
            maillog.info("master", "listening on %s (%s)", listener.address, listener.mode)
        signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
        if self.readiness is not None:
            self.readiness.ready()
        try:
            self._supervise()
        finally:
            if self.anvil_path:
                shutil.rmtree(os.path.dirname(self.anvil_path), ignore_errors=True)
            if self.pid_file is not None:
                self.pid_file.close()
        return 0

    def _prepare(self) -> None:
        """What can fail on the user's account (the spool, the queue's tables, mail_owner, the pid file, the
        ports), before any fork."""
        config = self.loaded.config
        self.owner = check_config(config)
        self._prepare_python()
        self._make_directories(config)
        self._lock_pid_file(config)
        if _relays(config):
            Spool(config.get("queue_directory")).clean_temporary()
        self.bound = bind_all(listeners(config))
        self._want_anvil(config)

    def _want_anvil(self, config: Config) -> None:
        """anvil's socket lives in a directory of its own that mail_owner may enter (the workers connect)."""
        if self.anvil_path or not anvil_wanted(config):
            return
        directory = tempfile.mkdtemp(prefix="filterd-anvil-")
        if self.owner is not None:
            self.owner.give(directory)
        self.anvil_path = os.path.join(directory, "anvil")

    def _prepare_python(self) -> None:
        unreadable = self.owner.prepare_python() if self.owner is not None else None
        if unreadable:
            maillog.info("master", "mail_owner %s cannot read Python's library %s: its codecs are loaded before "
                         "privileges are dropped", self.owner.name, unreadable)

    def _make_directories(self, config: Config) -> None:
        """The spool and the children's data directories; half-written queue files are removed at start only
        (on a reload the workers are writing theirs), once the pid file says no other master runs."""
        if _relays(config):
            create_spool(config, self.owner)
            create_data_directory(config, "filterd_mailbox_base", self.owner)
            if config.get("virtual_mailbox_base").startswith("/"):
                create_data_directory(config, "virtual_mailbox_base", self.owner)
        if _sinks(config):
            create_data_directory(config, "filterd_sink_directory", self.owner)

    def _lock_pid_file(self, config: Config) -> None:
        """master.pid under queue_directory; start-fg by a user who cannot write there runs without one."""
        pid_file = PidFile(pid_path(config.get("queue_directory")))
        try:
            pid_file.acquire()
        except OSError as exc:
            if self.pid_file_required:
                raise config.error("queue_directory", f"open {exc.filename}: {exc.strerror or exc}") from exc
            maillog.warning("master", "no pid file: open %s: %s", exc.filename, exc.strerror or exc)
            return
        self.pid_file = pid_file

    def _supervise(self) -> None:
        """Until stopped and every child is gone: start what is missing, reap, and answer signals."""
        self._fill()
        while self.children or not self.stopping:
            info = signal.sigtimedwait(HANDLED, _TICK)
            self._reap_all()
            if info is not None:
                self._on_signal(info.si_signo)
            self._fill()
            self._kill_late()

    def _on_signal(self, signum: int) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT):
            self._stop(signum)
        elif signum == signal.SIGHUP and not self.stopping:
            self._reload()

    def _fill(self) -> None:
        """Start the workers and the queue manager the current generation lacks, unless stopping."""
        if self.stopping:
            return
        if self.anvil_path and not any(c.kind == "anvil" for c in self.children.values()):
            self._spawn_when_due("anvil")
        current = [c.kind for c in self.children.values() if c.generation == self.generation]
        for _ in range(self.count - current.count("smtpd")):
            self._spawn_when_due("smtpd")
        if _relays(self.loaded.config) and not any(c.kind == "qmgr" for c in self.children.values()):
            self._spawn_when_due("qmgr")

    def _spawn_when_due(self, kind: str) -> None:
        if time.monotonic() >= self.hold_until.get(kind, 0.0):
            self._spawn(kind)

    def _spawn(self, kind: str) -> None:
        anvil_sock = self._bind_anvil() if kind == "anvil" else None
        if kind == "anvil" and anvil_sock is None:
            self.hold_until[kind] = time.monotonic() + _RESTART_DELAY
            return
        pid = os.fork()
        if pid == 0:
            self._become_child(kind, anvil_sock)
        if anvil_sock is not None:
            anvil_sock.close()
        self.children[pid] = Child(kind, self.generation, time.monotonic())

    def _bind_anvil(self) -> socket.socket | None:
        """anvil's listening socket, bound by the master and given to mail_owner; a failure leaves the client
        limits unenforced (anvil is advisory in Postfix too)."""
        assert self.anvil_path is not None
        try:
            sock = bind_anvil(self.anvil_path)
            if self.owner is not None:
                self.owner.give(self.anvil_path)
        except OSError as exc:
            maillog.warning("master", "bind %s: %s: client connection limits are not enforced", self.anvil_path,
                            exc.strerror or exc)
            return None
        return sock

    def _become_child(self, kind: str, anvil_sock: socket.socket | None = None) -> None:
        """In the forked child: default signals, no pid file, mail_owner's privileges, then its work; never
        returns."""
        for signum in HANDLED:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)
        if self.pid_file is not None:
            self.pid_file.close()
        code = 0
        try:
            self._child(kind, anvil_sock)
        except BaseException:
            maillog.error(kind, "%s process failed", kind, exc_info=True)
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _child(self, kind: str, anvil_sock: socket.socket | None) -> None:
        if kind in ("qmgr", "anvil"):
            for _, sock in self.bound:
                sock.close()
        if kind == "qmgr":
            processes.queue_manager_process(self.loaded, self.owner)
            return
        if kind == "anvil":
            processes.name_process("filterd-anvil")
        else:
            load_tls(self.loaded.config)
        if self.owner is not None:
            self.owner.become()
        if kind == "anvil" and anvil_sock is not None:
            processes.anvil(self.loaded, anvil_sock)
        else:
            processes.worker(self.loaded, self.bound, self.anvil_path)

    def _reap_all(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._reap(pid, status)

    def _reap(self, pid: int, status: int) -> None:
        """Forget a child; warn about, and restart, one that left without being told to."""
        child = self.children.pop(pid, None)
        if child is None or self.stopping or child.generation != self.generation:
            return
        if child.kind == "smtpd" and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            return  # a worker that left after a burst of sessions, to hand back its memory: _fill replaces it
        if os.WIFSIGNALED(status):
            maillog.warning("master", "process %s pid %d killed by signal %d", child.kind, pid, os.WTERMSIG(status))
        else:
            maillog.warning("master", "process %s pid %d exit status %d", child.kind, pid, os.WEXITSTATUS(status))
        if time.monotonic() - child.started < _RESTART_DELAY:
            self.hold_until[child.kind] = time.monotonic() + _RESTART_DELAY

    def _signal_children(self, signum: int, generation: int | None = None) -> None:
        """Signal every child, or one generation's workers and queue manager (anvil's counts outlive a reload)."""
        for pid, child in list(self.children.items()):
            if generation is None or child.generation == generation and child.kind != "anvil":
                try:
                    os.kill(pid, signum)
                except ProcessLookupError:
                    pass

    def _stop(self, signum: int) -> None:
        if self.stopping:
            return
        maillog.info("master", "terminating on signal %d", signum)
        self.stopping = True
        self.kill_at = time.monotonic() + self.loaded.config.time("filterd_shutdown_timeout") + _KILL_GRACE
        self._signal_children(signal.SIGTERM)

    def _kill_late(self) -> None:
        """Children still there well after filterd_shutdown_timeout on stop are killed."""
        if self.stopping and self.children and time.monotonic() > self.kill_at:
            self._signal_children(signal.SIGKILL)

    def _reload(self) -> None:
        """Postfix's reload: read main.cf, the plugins and the tables again and hand the sockets to a new
        generation of children; a configuration that does not load is refused and the running one stays."""
        maillog.info("master", "reload -- version %s, configuration %s", __version__,
                     os.path.dirname(self.loaded.path))
        try:
            loaded, owner, bound = self._load_again()
        except (ConfigError, FatalError) as exc:
            maillog.warning("master", "reload refused, the running configuration stays: %s", exc)
            return
        for line in loaded.ignored_lines():
            maillog.warning("master", "%s", line)
        self._switch(loaded, owner, bound)

    def _load_again(self) -> tuple[Loaded, MailOwner | None, list[tuple[Listener, socket.socket]]]:
        forget_modules(self.loaded)
        loaded = load(self.loaded.path, self.overrides)
        owner = check_config(loaded.config)
        self._make_directories(loaded.config)
        bound = bind_all(listeners(loaded.config), dict(self.bound))
        self._want_anvil(loaded.config)
        return loaded, owner, bound

    def _switch(self, loaded: Loaded, owner: MailOwner | None, bound: list[tuple[Listener, socket.socket]]) -> None:
        """Start the new generation on the sockets, then tell the old one to finish; sockets no listener uses
        any more are closed (the old workers close their copies as they stop)."""
        old_generation, old_bound = self.generation, self.bound
        self.loaded, self.owner, self.bound = loaded, owner, bound
        self.generation += 1
        self.hold_until.clear()
        for listener, _ in bound:
            if listener not in dict(old_bound):
                maillog.info("master", "listening on %s (%s)", listener.address, listener.mode)
        self._fill()
        self._signal_children(signal.SIGTERM, old_generation)
        kept = {id(sock) for _, sock in bound}
        for _, sock in old_bound:
            if id(sock) not in kept:
                sock.close()
