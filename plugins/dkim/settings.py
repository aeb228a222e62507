"""The dkim plugin's parameters, read once per chain: the tables and keys loaded, the networks parsed."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from filterd import Parameter, ParameterError, Resolver

from .keys import SigningKey, load_key
from .tables import SigningTable, TableError, read_key_table, read_signing_table

PARAMETERS = [
    Parameter("filterd_dkim_signing_table", "",
              doc="OpenDKIM's SigningTable: `PATTERN KEYNAME` lines choosing the key by the From address: "
                  "/PATH (or file:/PATH) matches the address, then its domain; refile:/PATH wildcards such as "
                  "*@example.org, the first match in file order. Empty: sign nothing."),
    Parameter("filterd_dkim_key_table", "",
              doc="OpenDKIM's KeyTable: `KEYNAME DOMAIN:SELECTOR:/PATH/TO/KEY` lines; the key an RSA or Ed25519 "
                  "private key in PEM (rsa-sha256, ed25519-sha256)."),
    Parameter("filterd_dkim_sign_networks", "$mynetworks", "list",
              doc="Mail from clients in these networks is signed (OpenDKIM's InternalHosts); other mail is verified."),
    Parameter("filterd_dkim_sign_authenticated", "yes", "bool",
              doc="Mail from SASL-authenticated clients is signed, wherever they connect from."),
    Parameter("filterd_dkim_verify", "yes", "bool",
              doc="Verify the DKIM-Signature headers of the mail that is not signed here."),
    Parameter("filterd_dkim_minimum_key_bits", "1024", "int",
              doc="A signature by a shorter RSA key fails (OpenDKIM's MinimumKeyBits)."),
]


@dataclass(frozen=True)
class Settings:
    signing_table: SigningTable
    keys: dict[str, SigningKey]
    sign_networks: tuple
    sign_authenticated: bool
    verify: bool
    minimum_key_bits: int
    resolver: Any

    def signs(self, session) -> bool:
        """Whether this client's mail is signed: an authenticated client, or one in filterd_dkim_sign_networks."""
        if self.sign_authenticated and session.sasl_username:
            return True
        try:
            address = ipaddress.ip_address(session.client_address)
        except ValueError:
            return False
        return any(address in network for network in self.sign_networks)

    def key_for(self, sender: str) -> SigningKey | None:
        name = self.signing_table.key_name(sender)
        return self.keys[name] if name else None


def read(config) -> Settings:
    name = "filterd_dkim_"
    signing_table, keys = _tables(config)
    return Settings(signing_table, keys, _networks(config.list(name + "sign_networks")),
                    config.bool(name + "sign_authenticated"), config.bool(name + "verify"),
                    config.int(name + "minimum_key_bits"), Resolver.from_config(config))


def _tables(config) -> tuple[SigningTable, dict[str, SigningKey]]:
    """The SigningTable and the keys of the KeyTable, every key file read now, so that a missing one stops filterd."""
    signing, key_table = config.get("filterd_dkim_signing_table"), config.get("filterd_dkim_key_table")
    if not signing.strip():
        return SigningTable(()), {}
    if not key_table.strip():
        raise ParameterError("filterd_dkim_key_table", "empty, while filterd_dkim_signing_table names keys")
    try:
        entries = read_key_table(key_table)
        keys = {key_name: load_key(entry) for key_name, entry in entries.items()}
    except TableError as exc:
        raise ParameterError("filterd_dkim_key_table", str(exc)) from None
    try:
        return read_signing_table(signing.strip(), set(keys)), keys
    except TableError as exc:
        raise ParameterError("filterd_dkim_signing_table", str(exc)) from None


def _networks(items: list[str]) -> tuple:
    """Postfix's network list: addresses and a.b.c.d/len, [ipv6]/len."""
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.replace("[", "").replace("]", ""), strict=False))
        except ValueError:
            raise ParameterError("filterd_dkim_sign_networks", f'bad network "{item}": expected an address or '
                                 "address/length") from None
    return tuple(networks)
