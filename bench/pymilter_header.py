"""The anchor for bench/milter: a trivial pymilter (libmilter) milter that adds one header at end of message.

    python -m bench.pymilter_header inet:PORT@127.0.0.1 | unix:/PATH
"""

from __future__ import annotations

import os
import sys

import Milter


class AddHeader(Milter.Base):
    """Adds X-Pymilter-Bench: yes to every message; every other callback is negotiated away."""

    def eom(self) -> int:
        self.addheader("X-Pymilter-Bench", "yes")
        return Milter.CONTINUE


def main(argv: list[str]) -> int:
    os.umask(0)  # the MTA's unprivileged smtpd must be able to connect to a unix socket
    Milter.factory = AddHeader
    Milter.set_flags(Milter.ADDHDRS)
    Milter.runmilter("bench-pymilter", argv[0], timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
