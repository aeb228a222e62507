"""The Received-SPF header as Postfix's policyd-spf writes it (RFC 7208 section 9.1's fields), for mail stores and
tools that read it rather than Authentication-Results."""

from __future__ import annotations

from filterd import InsertHeader


def received_spf(result: str, identity: str, client: str, helo: str, sender: str, receiver: str) -> InsertHeader:
    """`Pass (mailfrom) identity=mailfrom; client-ip=...; helo=...; envelope-from=...; receiver=...`, at the top."""
    fields = [f"identity={identity}", f"client-ip={client}", f"helo={helo or '<UNKNOWN>'}",
              f"envelope-from={sender or '<>'}", f"receiver={receiver}"]
    return InsertHeader("Received-SPF", f"{result.capitalize()} ({identity}) " + "; ".join(fields), 0)
