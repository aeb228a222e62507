"""External milters for the milter client's integration tests: OpenDKIM signing, and the pymilter tag_milter.

Each is a child process on a 127.0.0.1 high port, started and stopped by PID like the services of tests/harness.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.harness import HOST, Service, free_port, listening_sockets

TAG_MILTER = Path(__file__).with_name("tag_milter.py")
DOMAIN, SELECTOR = "example.org", "test"


class Milter(Service):
    """A milter listening on 127.0.0.1:port; `.socket` is its Postfix smtpd_milters name."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        super().__init__(directory)
        self.port = port or free_port()

    @property
    def socket(self) -> str:
        return f"inet:{HOST}:{self.port}"

    def ready(self) -> bool:
        return listening_sockets(self.port) > 0

    def request_stop(self) -> None:
        """libmilter waits for its sessions' threads after SIGTERM (seconds); these milters keep no state."""
        self.kill()


class TagMilter(Milter):
    """tests/milter/client/tag_milter.py under pymilter, with its command-line options."""

    name = "tag-milter"

    def __init__(self, directory: Path, *options: str, port: int | None = None) -> None:
        super().__init__(directory, port)
        self.options = list(options)

    def command(self) -> list[str]:
        return [sys.executable, str(TAG_MILTER), f"inet:{self.port}@{HOST}", *self.options]


class UnixTagMilter(TagMilter):
    """The same milter on a unix socket in its directory."""

    @property
    def path(self) -> Path:
        return self.directory / "milter.sock"

    @property
    def socket(self) -> str:
        return f"unix:{self.path}"

    def command(self) -> list[str]:
        return [sys.executable, str(TAG_MILTER), self.socket, *self.options]

    def ready(self) -> bool:
        """The socket is there; it is opened to everyone, as an administrator opens a milter's socket to the
        MTA's unprivileged user (filterd's workers run as mail_owner)."""
        if not self.path.exists():
            return False
        self.path.chmod(0o666)
        return True


class OpenDkim(Milter):
    """OpenDKIM in signing mode for example.org with selector `test` and a key made by opendkim-genkey."""

    name = "opendkim"

    @property
    def config_path(self) -> Path:
        return self.directory / "opendkim.conf"

    def prepare(self) -> None:
        subprocess.run(["opendkim-genkey", "-D", str(self.directory), "-d", DOMAIN, "-s", SELECTOR], check=True,
                       capture_output=True, timeout=60)
        self.config_path.write_text(
            "Syslog no\nMode s\n"
            f"Domain {DOMAIN}\nSelector {SELECTOR}\nKeyFile {self.directory / SELECTOR}.private\n"
            f"Socket inet:{self.port}@{HOST}\nRequireSafeKeys false\nCanonicalization relaxed/simple\n")

    def command(self) -> list[str]:
        return ["opendkim", "-f", "-x", str(self.config_path)]

    def public_key_record(self) -> bytes:
        """The TXT record opendkim-genkey wrote (test.txt), as DNS would return it."""
        text = (self.directory / f"{SELECTOR}.txt").read_text()
        return "".join(re.findall(r'"([^"]*)"', text)).encode()
