"""`filterd start | stop | reload | status | check-config | start-fg`: Postfix's `postfix` command and its
postfix-script, with filterd's name in their messages and their exit statuses.

The master holds a lock on $queue_directory/pid/master.pid while it runs: that lock, not the file, says whether
filterd runs (Postfix's `master -t`)."""

from __future__ import annotations

import os
import signal
import sys
import time

from filterd import maillog
from filterd.config import Config, ConfigError
from filterd.daemon import detach, pid_path, running_pid
from filterd.fatal import FatalError
from filterd.loading import Loaded
from filterd.master import Master, check_config

SCRIPT = "filterd-script"
NOT_RUNNING = "the filterd mail system is not running"
_POLL = 0.1


def say(config: Config, text: str, level: str = "") -> None:
    """postfix-script's words: `filterd/filterd-script: [fatal: ]TEXT` on stderr, and in the log when there is
    one besides stderr."""
    line = f"{level}: {text}" if level else text
    print(f"{config.get('syslog_name')}/{SCRIPT}: {line}", file=sys.stderr, flush=True)
    if _logs_elsewhere(config):
        {"fatal": maillog.log.critical, "warning": maillog.log.warning}.get(level, maillog.log.info)(
            "%s", text, extra={"service": SCRIPT})


def _logs_elsewhere(config: Config) -> bool:
    target = config.get("maillog_file")
    return target not in ("", "/dev/stderr") or os.path.exists(maillog.SYSLOG_SOCKET)


def setup_log(config: Config, foreground: bool, debug: bool = False) -> None:
    """maillog_file, else syslog (stderr in the foreground, or where there is no /dev/log)."""
    try:
        maillog.setup(config.get("maillog_file"), config.get("syslog_name"), config.get("myhostname"),
                      config.get("syslog_facility"), foreground=foreground, debug=debug,
                      utf8=config.bool("smtputf8_enable"))
    except OSError as exc:
        raise config.error("maillog_file", f"open {exc.filename}: {exc.strerror or exc}") from exc


def master_pid(config: Config) -> int | None:
    return running_pid(pid_path(config.get("queue_directory")))


def start_fg(loaded: Loaded, overrides: dict[str, str], debug: bool) -> int:
    """Run the master in the foreground (systemd's Type=simple, containers), logging to stderr by default."""
    setup_log(loaded.config, foreground=True, debug=debug)
    return Master(_absolute(loaded), overrides).run()


def start(loaded: Loaded, overrides: dict[str, str]) -> int:
    """Detach the master; return once it serves, or fail with its reason (exit 1)."""
    if master_pid(loaded.config) is not None:
        return _fatal(loaded.config, "the filterd mail system is already running")
    say(loaded.config, "starting the filterd mail system")
    loaded = _absolute(loaded)
    readiness = detach()
    if readiness is None:
        return 0
    code = 1
    try:
        code = Master(loaded, overrides, readiness, pid_file_required=True).run()
    except (Exception, KeyboardInterrupt) as exc:
        if not isinstance(exc, (ConfigError, FatalError)):
            maillog.error("master", "master failed", exc_info=True)
    finally:
        os._exit(code)


def _absolute(loaded: Loaded) -> Loaded:
    """The daemon works from / and reads main.cf again on reload: keep its path whole."""
    loaded.path = os.path.abspath(loaded.path)
    return loaded


def status(config: Config) -> int:
    pid = master_pid(config)
    if pid is None:
        say(config, NOT_RUNNING)
        return 1
    say(config, f"the filterd mail system is running: PID: {pid}")
    return 0


def stop(config: Config) -> int:
    """SIGTERM to the master; wait while its children finish their sessions, then kill what is left."""
    pid = master_pid(config)
    if pid is None:
        return _fatal(config, NOT_RUNNING)
    say(config, "stopping the filterd mail system")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + config.time("filterd_shutdown_timeout") + 10
    next_note = time.monotonic() + 5
    while master_pid(config) is not None:
        if time.monotonic() > deadline:
            say(config, "stopping the filterd mail system with force", "warning")
            _kill_group(pid)
            break
        if time.monotonic() > next_note:
            say(config, "waiting for the filterd mail system to terminate")
            next_note += 5
        time.sleep(_POLL)
    return 0


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        os.kill(pid, signal.SIGKILL)


def reload(loaded: Loaded) -> int:
    """Check the configuration as it is now (loading it did most), then SIGHUP to the master."""
    pid = master_pid(loaded.config)
    if pid is None:
        return _fatal(loaded.config, NOT_RUNNING)
    check_config(loaded.config)
    say(loaded.config, "refreshing the filterd mail system")
    os.kill(pid, signal.SIGHUP)
    return 0


def check(loaded: Loaded) -> int:
    """`filterd check-config`, Postfix's `postfix check`: 0 when main.cf, its plugins and tables load and
    mail_owner is fit, silent but for a warning per Postfix parameter filterd ignores; else a fatal error (raised:
    `filterd: fatal: ...`, exit 1)."""
    check_config(loaded.config)
    for line in loaded.ignored_lines():
        say(loaded.config, line, "warning")
    return 0


def _fatal(config: Config, text: str) -> int:
    say(config, text, "fatal")
    return 1

