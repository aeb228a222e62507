"""A new ARC set (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results) made by dkimpy's ARC signer, the
results reported so far given to it as this host's Authentication-Results."""

from __future__ import annotations

import authres
import dkim

from .chain import DKIMPY_LOG


def arc_set(data: bytes, results, settings) -> list[tuple[str, str]]:
    """(name, value) of each header of the new set, in the order they go at the top."""
    stamped = f"Authentication-Results: {_results(settings.authserv_id, results)}\r\n".encode() + data
    signer = dkim.ARC(stamped, logger=DKIMPY_LOG)
    lines = signer.sign(settings.selector.encode(), settings.domain.encode(), settings.key,
                        settings.authserv_id.encode())
    return [_split(line) for line in lines]


def _results(authserv_id: str, results) -> str:
    """The Authentication-Results value of the results, as authres writes (and dkimpy reads) it."""
    found = [authres.AuthenticationResult(
        method=result.method, result=result.result, reason=result.reason or None,
        properties=[authres.AuthenticationResultProperty(*name.split(".", 1), value)
                    for name, value in result.properties]) for result in results]
    return str(authres.AuthenticationResultsHeader(authserv_id=authserv_id, results=found).header_value())


def _split(line: bytes) -> tuple[str, str]:
    name, _, value = line.decode("ascii").partition(":")
    return name, value.strip()
