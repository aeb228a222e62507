"""CPU accounting for benchmarks on virtual machines: the time the hypervisor gave to other guests (the
steal column of /proc/stat) and the CPU time one process tree used (bench/checks, bench/milter).

On a shared host steal comes and goes, and a run that lost a third of its CPU to other guests reads as
software a third slower; `Clock` tells what share of a block's CPU time was stolen, so that a benchmark
can measure again.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.harness import process_tree

TICK = os.sysconf("SC_CLK_TCK")


def stolen_seconds() -> float:
    """CPU seconds taken by the hypervisor since boot, summed over this machine's CPUs."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / TICK if len(fields) > 8 else 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time a process tree has used, children that exited and were waited for included."""
    ticks = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])
    return ticks / TICK


class Clock:
    """Wall time of a block (`elapsed`), and that time less the steal spread over the CPUs (`available`)."""

    def __enter__(self) -> Clock:
        self.started, self.steal_at_start = time.monotonic(), stolen_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.monotonic() - self.started
        lost = (stolen_seconds() - self.steal_at_start) / (os.cpu_count() or 1)
        self.available = max(self.elapsed - lost, self.elapsed * 0.05)

    @property
    def steal_share(self) -> float:
        return 1 - self.available / self.elapsed if self.elapsed else 0.0
