"""A private network and mount namespace for programs whose resolver only asks port 53 of the servers in
/etc/resolv.conf (Postfix: the C library's resolver has no port setting).

Inside, the loopback interface is the namespace's own, so the loopback DNS server can take 127.0.0.1:53 without
touching the host's, and /etc/resolv.conf is bind-mounted from the namespace's directory. Services run inside
through `nsenter`; their files are the host's. Needs root, or user namespaces (`unshare`), and iproute2's `ip`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.harness import LISTEN_STATE, REPO_ROOT, Postfix, Service, SmtpSink, read_text

RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
"""One try of one second: a silent server answers TRY_AGAIN as soon as filterd_dns_timeout = 1s does."""


class NetworkNamespace(Service):
    """The namespace, held open by a sleeping process; `enter(argv)` runs a command inside it."""

    name = "netns"

    def prepare(self) -> None:
        (self.directory / "resolv.conf").write_text(RESOLV_CONF)

    def command(self) -> list[str]:
        script = (f"ip link set lo up && mount --bind {self.directory}/resolv.conf /etc/resolv.conf "
                  "&& echo ready && exec sleep infinity")
        return ["unshare", "--net", "--mount", "sh", "-c", script]

    def ready(self) -> bool:
        return "ready" in read_text(self.stdout_path)

    def enter(self, argv: Sequence[str]) -> list[str]:
        """The argv that runs a command in the namespace, in the caller's working directory."""
        return ["nsenter", "-t", str(self.pid), "--net", "--mount", f"--wd={Path.cwd()}", *argv]

    def listening(self, port: int) -> bool:
        """Whether a TCP socket of the namespace listens on the port (its own /proc/PID/net/tcp)."""
        lines = Path(f"/proc/{self.pid}/net/tcp").read_text().splitlines()[1:]
        return any(f[3] == LISTEN_STATE and int(f[1].rsplit(":", 1)[1], 16) == port for f in map(str.split, lines))


class DnsServerInside(Service):
    """tests/dns_server.py on 127.0.0.1:53 of the namespace, serving a zone given as for DnsServer."""

    name = "dns-server"

    def __init__(self, directory: Path, netns: NetworkNamespace, records: Mapping, failures: Mapping) -> None:
        super().__init__(directory)
        self.netns, self.zone = netns, {"records": dict(records), "failures": dict(failures)}

    def prepare(self) -> None:
        (self.directory / "zone.json").write_text(json.dumps(self.zone))

    def command(self) -> list[str]:
        return self.netns.enter([sys.executable, "-m", "tests.dns_server", str(self.directory / "zone.json"),
                                 "--port", "53"])

    def environment(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    def ready(self) -> bool:
        return "127.0.0.1:53" in read_text(self.stdout_path)


class SmtpSinkInside(SmtpSink):
    """smtp-sink listening in the namespace."""

    def __init__(self, directory: Path, netns: NetworkNamespace, port: int) -> None:
        super().__init__(directory, port)
        self.netns = netns

    def command(self) -> list[str]:
        return self.netns.enter(super().command())

    def ready(self) -> bool:
        return self.netns.listening(self.port)


class PostfixInside(Postfix):
    """A private Postfix whose processes live in the namespace, with no inet listener: mail comes by sendmail."""

    def __init__(self, directory: Path, netns: NetworkNamespace, settings: Mapping[str, str]) -> None:
        super().__init__(directory, [], settings)
        self.netns = netns

    def command(self) -> list[str]:
        return self.netns.enter(super().command())

    def ready(self) -> bool:
        return "daemon started" in self.maillog()
