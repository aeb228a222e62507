"""The arc plugin's parameters (OpenARC's Domain, Selector, KeyFile, AuthservID), read once per chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from filterd import Parameter, ParameterError, Resolver

PARAMETERS = [
    Parameter("filterd_arc_domain", "", doc="The d= of the ARC sets sealed here; empty: verify only, seal nothing."),
    Parameter("filterd_arc_selector", "", doc="The s= of the ARC sets sealed here: the key record is "
                                              "SELECTOR._domainkey.DOMAIN."),
    Parameter("filterd_arc_key_file", "", doc="The RSA private key (PEM) that seals (rsa-sha256, as RFC 8617 asks)."),
    Parameter("filterd_arc_authserv_id", "$myhostname",
              doc="The authserv-id whose Authentication-Results the ARC-Authentication-Results header copies."),
]


@dataclass(frozen=True)
class Settings:
    domain: str
    selector: str
    key: bytes | None
    authserv_id: str
    resolver: Any


def read(config) -> Settings:
    name = "filterd_arc_"
    domain, selector, key_file = (config.get(name + what).strip() for what in ("domain", "selector", "key_file"))
    if domain and not (selector and key_file):
        raise ParameterError(name + "domain", "sealing needs filterd_arc_selector and filterd_arc_key_file too")
    key = None
    if domain:
        try:
            with open(key_file, "rb") as file:
                key = file.read()
        except OSError as exc:
            raise ParameterError(name + "key_file", f"{key_file}: {exc.strerror or exc}") from None
        if b"PRIVATE KEY-----" not in key:
            raise ParameterError(name + "key_file", f"{key_file}: not a PEM private key")
    return Settings(domain, selector, key, config.get(name + "authserv_id"), Resolver.from_config(config))
