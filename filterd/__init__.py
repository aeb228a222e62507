"""filterd: a plugin-based mail content filter built after Postfix's design.

The public API for plugin authors is what this module exports (`__all__`), with `filterd.testing` for their
tests; nothing else is promised, and plugins import nothing else from filterd. docs/plugins.md documents
every name. Each is imported on first use (PEP 562), so that `import filterd` costs nothing: `filterd pipe`
as the pipe service's client runs on the standard library alone.
"""

from __future__ import annotations

TYPE_CHECKING = False
"""typing.TYPE_CHECKING without importing typing, which costs the pipe service's client more than its work."""

if TYPE_CHECKING:
    from filterd.config import Config, ConfigError, Parameter
    from filterd.content import Header
    from filterd.edits import ContentVerdict, InBody, MimeError
    from filterd.model import Envelope, Message, Session
    from filterd.registry import ParameterError, hookimpl
    from filterd.services import Endpoint, one_of, parse_endpoint, service_timeout
    from filterd.verdict import (
        CHANGES,
        Action,
        AddHeader,
        AuthResult,
        ChangeHeader,
        DeleteHeader,
        InsertHeader,
        ReplaceBody,
        Symbol,
        Verdict,
    )
    from filterd.addresses import AddressRules, quote_local, unquote_local, valid_hostname
    from filterd.body_hash import BodyHash
    from filterd.dns import Resolver
    from filterd.domain_list import DomainList
    from filterd.milter import client as milter_client
    from filterd.network import in_networks, networks
    from filterd.policy import client as policy_client
    from filterd.tables import PartialKey, Table, TableError, lookup_keys, open_table, open_tables
    from filterd.transport_maps import TransportMaps
    from filterd.address_keys import Delimiters, find_address, lookup_address
    from filterd.canonical import CanonicalMaps
    from filterd.virtual_alias import VirtualAliases

__version__ = "0.1.0"

__all__ = [
    "CHANGES", "Action", "AddHeader", "AddressRules", "AuthResult", "BodyHash", "ChangeHeader", "Config", "ConfigError",
    "ContentVerdict", "DeleteHeader", "DomainList", "Endpoint", "Envelope", "Header", "InBody", "InsertHeader",
    "Message", "MimeError", "Parameter", "ParameterError", "PartialKey", "ReplaceBody", "Resolver", "Session", "Symbol",
    "Table", "TableError", "TransportMaps", "Verdict", "VirtualAliases", "Delimiters", "find_address", "lookup_address",
    "CanonicalMaps", "hookimpl", "in_networks", "lookup_keys", "milter_client", "networks", "one_of", "open_table",
    "open_tables", "parse_endpoint", "policy_client", "quote_local", "service_timeout", "unquote_local",
    "valid_hostname", "__version__",
]

_ON_FIRST_USE = {
    "Config": "filterd.config", "ConfigError": "filterd.config", "Parameter": "filterd.config",
    "Header": "filterd.content", "ContentVerdict": "filterd.edits", "InBody": "filterd.edits",
    "MimeError": "filterd.edits", "Envelope": "filterd.model", "Message": "filterd.model", "Session": "filterd.model",
    "ParameterError": "filterd.registry", "hookimpl": "filterd.registry", "Endpoint": "filterd.services",
    "one_of": "filterd.services", "parse_endpoint": "filterd.services", "service_timeout": "filterd.services",
    **{name: "filterd.verdict" for name in ("CHANGES", "Action", "AddHeader", "AuthResult", "ChangeHeader",
                                            "DeleteHeader", "InsertHeader", "ReplaceBody", "Symbol", "Verdict")},
    "Table": "filterd.tables", "TableError": "filterd.tables", "open_table": "filterd.tables",
    "open_tables": "filterd.tables", "PartialKey": "filterd.tables", "lookup_keys": "filterd.tables",
    "TransportMaps": "filterd.transport_maps", "DomainList": "filterd.domain_list",
    "VirtualAliases": "filterd.virtual_alias", "Delimiters": "filterd.address_keys",
    "find_address": "filterd.address_keys", "lookup_address": "filterd.address_keys",
    "CanonicalMaps": "filterd.canonical",
    "milter_client": "filterd.milter.client",
    "AddressRules": "filterd.addresses", "quote_local": "filterd.addresses", "unquote_local": "filterd.addresses",
    "valid_hostname": "filterd.addresses",
    "Resolver": "filterd.dns", "BodyHash": "filterd.body_hash", "in_networks": "filterd.network",
    "networks": "filterd.network",
    "policy_client": "filterd.policy.client",
}
"""The public names: name -> the module that holds it (or is it), imported when first asked for."""


def __getattr__(name: str) -> object:
    """A public name, imported from its module on first use (PEP 562)."""
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module 'filterd' has no attribute {name!r}")
    import importlib

    found = importlib.import_module(module)
    value = found if name in ("milter_client", "policy_client") else getattr(found, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
