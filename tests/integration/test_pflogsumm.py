"""pflogsumm (Debian's) reads filterd's log as it reads Postfix's: received, delivered, deferred, bounced."""

from __future__ import annotations

import re
import subprocess

from tests.harness import free_port, wait_until
from tests.integration.test_relay import FAST_QUEUE, send


def summary(log_path) -> dict[str, int]:
    out = subprocess.run(["pflogsumm", "--syslog-name=filterd", str(log_path)], capture_output=True, text=True,
                         check=True).stdout
    return {word: int(n) for n, word in re.findall(r"^[ \t]+(\d+)[ \t]+(received|delivered|deferred|bounced)\b",
                                                   out, re.M)}


def test_pflogsumm_counts(filterd_factory):
    port = free_port()
    relay = filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:127.0.0.1:{port}",
                             "relayhost": f"[127.0.0.1]:{free_port()}"}, port=port)
    for n in range(3):
        send(relay.port, "someone@localhost", ["user@localhost"], f"local {n}")
    send(relay.port, "someone@localhost", ["no..such@localhost"], "bounces")
    send(relay.port, "someone@localhost", ["bob@example.net"], "defers")
    wait_until(lambda: relay.log().count("status=sent") >= 4 and "status=deferred" in relay.log(), 15,
               "deliveries, the bounce and a deferral")
    counts = summary(relay.log_path)
    assert counts == {"received": 5, "delivered": 4, "deferred": 1, "bounced": 1}, counts
