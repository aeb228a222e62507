"""smtpd_tls_chain_files: PEM files that, read in order as one, hold key1, cert1, [chain1], key2, cert2, ... (one
key per algorithm), loaded into a server context as Postfix's tls_certkey.c loads them, with its warnings."""

from __future__ import annotations

import os
import re
import ssl
import tempfile

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----\r?\n?", re.S)


class ChainError(ssl.SSLError):
    """The files cannot give a key and its certificates; the text is Postfix's warning."""


def pem_groups(files: list[str]) -> list[list[bytes]]:
    """The (key, cert, chain...) groups of the files read in order as one; ChainError with Postfix's words."""
    groups: list[list[bytes]] = []
    for name in files:
        try:
            with open(name, "rb") as file:
                data = file.read()
        except OSError as exc:
            raise ChainError(f"error opening chain file: {name}: {exc.strerror}") from None
        for match in _PEM.finditer(data):
            kind = match.group(1).decode()
            if kind.endswith("PRIVATE KEY"):
                groups.append([match.group()])
            elif kind in ("CERTIFICATE", "TRUSTED CERTIFICATE"):
                if not groups:
                    raise ChainError(f"error loading chain from {name}: key not first")
                groups[-1].append(match.group())
    if not groups:
        raise ChainError(f"No PEM data in {', '.join(files)}")
    for number, group in enumerate(groups, 1):
        if len(group) == 1:
            raise ChainError(f"No certs for key at index {number} in {', '.join(files)}")
    return groups


def load_chain_files(context: ssl.SSLContext, files: list[str]) -> None:
    """Each key with its certificates into the context (through a private temporary file: load_cert_chain reads
    files only)."""
    for group in pem_groups(files):
        descriptor, path = tempfile.mkstemp(suffix=".pem")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(b"".join(part if part.endswith(b"\n") else part + b"\n" for part in group[1:] + group[:1]))
            context.load_cert_chain(path)
        finally:
            os.unlink(path)
