"""Fixtures that run real mail components (tests/harness.py); a missing program fails the test."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.dns_server import DnsServer
from tests.fixtures.c_client import compile_c_client
from tests.harness import FilterdProcess, Postfix, Service, SmtpSink, make_workdir

INTEGRATION_FIXTURES = {"mta_dir", "mta_launcher", "smtp_sink", "smtp_sink_factory", "postfix_factory",
                        "filterd_factory"}
REQUIRED_PROGRAMS = {"postfix": "postfix", "postconf": "postfix", "smtp-sink": "postfix",
                     "smtp-source": "postfix", "swaks": "swaks", "dovecot": "dovecot-core",
                     "haproxy": "haproxy"}
CALL_REPORT = pytest.StashKey[pytest.TestReport]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: starts real servers (Postfix, smtp-sink, filterd)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    return report


def require_programs() -> None:
    """Fail (never skip) when a program the harness runs is not installed."""
    missing = [name for name in REQUIRED_PROGRAMS if not shutil.which(name)]
    if missing:
        packages = sorted({REQUIRED_PROGRAMS[name] for name in missing})
        pytest.fail(f"not installed: {', '.join(missing)}; run scripts/install-test.sh "
                    f"(Debian packages: {' '.join(packages)})")


class Launcher:
    """Start services in numbered directories under one root and stop them all, newest first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.services: list[Service] = []
        self.count = 0

    def directory(self, name: str) -> Path:
        """Return a fresh directory name for the next service."""
        self.count += 1
        return self.root / f"{name}-{self.count}"

    def launch(self, service: Service) -> Service:
        """Start a service and remember it for teardown."""
        self.services.append(service)
        return service.start()

    def stop_all(self) -> None:
        """Stop every service started through this launcher."""
        for service in reversed(self.services):
            service.stop()


@contextmanager
def launched(prefix: str) -> Iterator[Launcher]:
    """A module's launcher: the programs checked, a fresh work directory, every service stopped at the end."""
    require_programs()
    launcher = Launcher(make_workdir(prefix))
    try:
        yield launcher
    finally:
        launcher.stop_all()


class PostfixFactory:
    """Start private Postfix instances: any master.cf listeners, or one of the two test layouts."""

    def __init__(self, launcher: Launcher) -> None:
        self.launcher = launcher

    def __call__(self, listeners: Iterable[str], settings: Mapping[str, str] | None = None) -> Postfix:
        """Start Postfix with these master.cf listener lines and extra main.cf settings."""
        return self.launcher.launch(Postfix(self.launcher.directory("postfix"), listeners, settings))

    def relay(self, relay_port: int, settings: Mapping[str, str] | None = None, **ports: int) -> Postfix:
        """Start one smtpd listener (.port) relaying to 127.0.0.1:relay_port."""
        directory = self.launcher.directory("postfix")
        return self.launcher.launch(Postfix.relay(directory, relay_port, settings, **ports))

    def before_queue_proxy(self, filter_port: int, relay_port: int,
                           settings: Mapping[str, str] | None = None, **ports: int) -> Postfix:
        """Start smtpd (.port) -> filter_port -> reinjection smtpd (.reinject_port) -> relay_port."""
        directory = self.launcher.directory("postfix")
        return self.launcher.launch(Postfix.before_queue_proxy(directory, filter_port, relay_port,
                                                               settings, **ports))


@pytest.fixture(scope="session")
def c_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """filterd-pipe, the pipe service's C client, compiled once for the session."""
    return compile_c_client(tmp_path_factory.mktemp("c-client"))


@pytest.fixture
def mta_dir(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A /tmp directory the postfix user can traverse; kept when the test fails."""
    require_programs()
    path = make_workdir(f"filterd-{request.node.name[:40]}-")
    yield path
    report = request.node.stash.get(CALL_REPORT, None)
    if report is None or not report.failed:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def mta_launcher(mta_dir: Path) -> Iterator[Launcher]:
    """Every service the test started, stopped at teardown."""
    launcher = Launcher(mta_dir)
    yield launcher
    launcher.stop_all()


@pytest.fixture
def smtp_sink_factory(mta_launcher: Launcher):
    """smtp_sink_factory(port=None, *, dump=True, hard_reject=(), soft_reject=(), disconnect=(),
    shutdown=(), extra_args=()) -> a started SmtpSink."""

    def start(port: int | None = None, **options) -> SmtpSink:
        return mta_launcher.launch(SmtpSink(mta_launcher.directory("sink"), port, **options))

    return start


@pytest.fixture
def smtp_sink(smtp_sink_factory) -> SmtpSink:
    """A started smtp-sink that dumps every message it receives."""
    return smtp_sink_factory()


@pytest.fixture
def postfix_factory(mta_launcher: Launcher) -> PostfixFactory:
    """postfix_factory(listeners, settings=None), .relay(relay_port, settings=None),
    .before_queue_proxy(filter_port, relay_port, settings=None) -> a started Postfix."""
    return PostfixFactory(mta_launcher)


@pytest.fixture
def filterd_factory(mta_launcher: Launcher):
    """filterd_factory(settings=None, *, port=None, nexthop_port=None, command=...) -> a started
    FilterdProcess."""

    def start(settings: Mapping[str, str | None] | None = None, **options) -> FilterdProcess:
        directory = mta_launcher.directory("filterd")
        return mta_launcher.launch(FilterdProcess(directory, settings, **options))

    return start


@pytest.fixture
def filterd_log(caplog):
    """Capture the "filterd" logger even after maillog.setup() turned propagation off."""
    logger = logging.getLogger("filterd")
    saved, logger.propagate = logger.propagate, True
    caplog.set_level(logging.INFO, logger="filterd")
    yield caplog
    logger.propagate = saved


@pytest.fixture
def local_zone(monkeypatch):
    """local_zone("Asia/Kolkata") sets the process's time zone (TZ) for this test; the machine's comes back after."""

    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def restore_filterd_logger():
    """cli.main calls maillog.setup(), which replaces handlers and stops propagation: undo it after the test."""
    logger = logging.getLogger("filterd")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        if handler not in saved[0]:
            handler.close()
    for handler in saved[0]:
        logger.addHandler(handler)
    logger.propagate, logger.level = saved[1], saved[2]


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    """A loopback DNS server (tests/dns_server.py) with an empty zone: the test adds records and failures."""
    with DnsServer() as server:
        yield server


@pytest.fixture(autouse=True)
def forget_early_log_records():
    """maillog keeps what is logged before its setup, for the process's real log; one test's records are not
    another's, as each filterd process starts with none, and one test's log set-up (a command run in-process, its
    stderr a capture that ends with the test) is not the next one's."""
    from filterd import maillog

    maillog.discard_early(lambda record: True)
    yield
    maillog.reset()
