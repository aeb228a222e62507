"""A private network namespace for programs whose resolver only asks port 53 of the servers in /etc/resolv.conf
(Postfix: the C library's resolver has no port setting).

Inside, the loopback interface is the namespace's own and also carries the address of the host's first nameserver,
so the loopback DNS server can answer there on port 53 without touching the host's network or its
/etc/resolv.conf (no mount namespace: a chroot, as in CI's bare Debian check, has no mount of its own to make
private). The resolver's timeout comes from RES_OPTIONS, which PostfixInside passes to its processes. Services run
inside through `nsenter`; their files are the host's. Needs root (`unshare`) and iproute2's `ip`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.harness import LISTEN_STATE, REPO_ROOT, FilterdProcess, Postfix, Service, SmtpSink, read_text

RES_OPTIONS = "timeout:1 attempts:1"
"""One try of one second: a silent server answers TRY_AGAIN as soon as filterd_dns_timeout = 1s does."""


def nameserver() -> str:
    """The first nameserver of the host's /etc/resolv.conf (the C library's default, 127.0.0.1, without one)."""
    try:
        lines = Path("/etc/resolv.conf").read_text().splitlines()
    except OSError:
        lines = []
    found = [line.split()[1] for line in lines if line.startswith("nameserver") and len(line.split()) > 1]
    return found[0] if found else "127.0.0.1"


class NetworkNamespace(Service):
    """The namespace, held open by a sleeping process; `enter(argv)` runs a command inside it."""

    name = "netns"

    def command(self) -> list[str]:
        address = nameserver()
        add = f"ip addr add {address}/{128 if ':' in address else 32} dev lo && " if address != "127.0.0.1" else ""
        return ["unshare", "--net", "sh", "-c", f"ip link set lo up && {add}echo ready && exec sleep infinity"]

    def ready(self) -> bool:
        return "ready" in read_text(self.stdout_path)

    def enter(self, argv: Sequence[str]) -> list[str]:
        """The argv that runs a command in the namespace, in the caller's working directory."""
        return ["nsenter", "-t", str(self.pid), "--net", f"--wd={Path.cwd()}", *argv]

    def listening(self, port: int) -> bool:
        """Whether a TCP socket of the namespace listens on the port (its own /proc/PID/net/tcp)."""
        lines = Path(f"/proc/{self.pid}/net/tcp").read_text().splitlines()[1:]
        return any(f[3] == LISTEN_STATE and int(f[1].rsplit(":", 1)[1], 16) == port for f in map(str.split, lines))


class DnsServerInside(Service):
    """tests/dns_server.py on port 53 of the host's nameserver address inside the namespace, serving a zone given as
    for DnsServer."""

    name = "dns-server"

    def __init__(self, directory: Path, netns: NetworkNamespace, records: Mapping, failures: Mapping) -> None:
        super().__init__(directory)
        self.netns, self.zone = netns, {"records": dict(records), "failures": dict(failures)}

    def prepare(self) -> None:
        (self.directory / "zone.json").write_text(json.dumps(self.zone))

    def command(self) -> list[str]:
        return self.netns.enter([sys.executable, "-m", "tests.dns_server", str(self.directory / "zone.json"),
                                 "--host", nameserver(), "--port", "53"])

    def environment(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    def ready(self) -> bool:
        return ":53" in read_text(self.stdout_path)


class SmtpSinkInside(SmtpSink):
    """smtp-sink listening in the namespace."""

    def __init__(self, directory: Path, netns: NetworkNamespace, port: int) -> None:
        super().__init__(directory, port)
        self.netns = netns

    def command(self) -> list[str]:
        return self.netns.enter(super().command())

    def ready(self) -> bool:
        return self.netns.listening(self.port)


IMPORT_ENVIRONMENT = ("MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C POSTLOG_SERVICE "
                      "POSTLOG_HOSTNAME")
"""Postfix's default import_environment, to which PostfixInside adds the resolver's RES_OPTIONS."""


class PostfixInside(Postfix):
    """A private Postfix whose processes live in the namespace, with no inet listener: mail comes by sendmail."""

    def __init__(self, directory: Path, netns: NetworkNamespace, settings: Mapping[str, str]) -> None:
        imported = f"{IMPORT_ENVIRONMENT} RES_OPTIONS={RES_OPTIONS}"
        super().__init__(directory, [], {"import_environment": imported, **settings})
        self.netns = netns

    def command(self) -> list[str]:
        return self.netns.enter(super().command())

    def ready(self) -> bool:
        return "daemon started" in self.maillog()


class FilterdInside(FilterdProcess):
    """filterd with its processes in the namespace: its resolver and the C library's (the client's name) ask the
    namespace's DNS server on port 53, as Postfix's do, with the same RES_OPTIONS."""

    def __init__(self, directory: Path, netns: NetworkNamespace, settings: Mapping[str, str], port: int) -> None:
        super().__init__(directory, settings, port=port)
        self.netns = netns

    def command(self) -> list[str]:
        return self.netns.enter(super().command())

    def environment(self) -> dict[str, str]:
        return {**super().environment(), "RES_OPTIONS": RES_OPTIONS}

    def ready(self) -> bool:
        return self.netns.listening(self.port)
