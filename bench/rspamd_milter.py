"""Debian's Rspamd 3.4 as a signing milter for bench/dkim.py: its proxy worker in milter mode, scanning in itself
(self_scan), dkim_signing with the benchmark's key for the loopback clients, the modules that ask the network or
Redis off and its resolver pointed at a closed loopback port; its own configuration, run directory and log in the
benchmark's directory, in the foreground, started and stopped by PID like every other service of the benchmarks."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.dkim_keys import Key
from tests.harness import Service, free_port, listening_sockets

NETWORK_MODULES = ("rbl", "spf", "dkim", "dmarc", "arc", "asn", "fuzzy_check", "phishing", "emails", "greylist",
                   "ratelimit", "neural", "replies", "history_redis", "mx_check", "dcc", "url_redirector",
                   "multimap", "reputation", "metadata_exporter", "external_services", "elastic", "clickhouse",
                   "maillist", "once_received", "hfilter", "whitelist", "known_senders", "milter_headers")


class RspamdMilter(Service):
    """rspamd -f with a configuration of the benchmark's own; `bind` is HOST:PORT or a socket's path."""

    name = "rspamd"

    def __init__(self, directory: Path, bind: str, key: Key, port: int, path: Path | None, workers: int) -> None:
        super().__init__(directory)
        self.bind, self.key, self.port, self.path, self.workers = bind, key, port, path, workers

    def prepare(self) -> None:
        local = self.directory / "local.d"
        local.mkdir(exist_ok=True)
        for module in NETWORK_MODULES:
            (local / f"{module}.conf").write_text("enabled = false;\n")
        (local / "dkim_signing.conf").write_text(
            f'sign_local = true;\nsign_authenticated = true;\nuse_domain = "header";\nuse_esld = false;\n'
            f'allow_hdrfrom_mismatch = true;\nallow_username_mismatch = true;\nselector = "{self.key.selector}";\n'
            f'path = "{self.key.path}";\nsign_headers = "(o)from:(x)sender:(o)reply-to:(o)subject:(x)date:'
            f'(x)message-id:(o)to:(o)cc:(x)mime-version:(x)content-type:(x)content-transfer-encoding";\n')
        socket = f'"{self.bind} mode=0666"' if self.path else f'"{self.bind}"'
        (self.directory / "rspamd.conf").write_text(f"""\
.include "$CONFDIR/common.conf"
options {{
    pidfile = "{self.directory}/rspamd.pid";
    .include "$CONFDIR/options.inc"
    local_addrs = ["127.0.0.0/8"];
    dns {{ nameserver = ["127.0.0.1:{free_port()}"]; timeout = 0.1s; retransmits = 0; }}
}}
logging {{ type = "file"; filename = "{self.directory}/rspamd.log"; level = "error"; }}
worker "rspamd_proxy" {{
    bind_socket = {socket};
    milter = yes;
    timeout = 120s;
    count = {self.workers};
    upstream "local" {{ default = yes; self_scan = yes; }}
}}
""")

    def command(self) -> list[str]:
        return ["rspamd", "-f", "-i", "-c", str(self.directory / "rspamd.conf"),
                f"--var=LOCAL_CONFDIR={self.directory}", f"--var=DBDIR={self.directory}",
                f"--var=RUNDIR={self.directory}", f"--var=LOGDIR={self.directory}"]

    def ready(self) -> bool:
        return self.path.exists() if self.path else listening_sockets(self.port) > 0
