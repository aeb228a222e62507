"""filterd: a plugin-based mail content filter built after Postfix's design.

The public API for plugin authors is what this module exports (`__all__`), with `filterd.testing` for their
tests; nothing else is promised, and plugins import nothing else from filterd. docs/plugins.md documents
every name. The lookup tables, the milter client and the DNS resolver are imported on first use, so that
`import filterd` stays cheap for the command-line tools.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from filterd.dns import Resolver
    from filterd.milter import client as milter_client
    from filterd.tables import Table, TableError, open_table, open_tables

__version__ = "0.1.0"

__all__ = [
    "CHANGES", "Action", "AddHeader", "AuthResult", "ChangeHeader", "Config", "ConfigError", "ContentVerdict", "DeleteHeader",
    "Endpoint", "Envelope", "Header", "InBody", "InsertHeader", "Message", "MimeError", "Parameter", "ParameterError",
    "ReplaceBody", "Resolver", "Session", "Symbol", "Table", "TableError", "Verdict", "hookimpl", "milter_client", "one_of",
    "open_table", "open_tables", "parse_endpoint", "service_timeout", "__version__",
]

_ON_FIRST_USE = {
    "Table": "filterd.tables", "TableError": "filterd.tables", "open_table": "filterd.tables",
    "open_tables": "filterd.tables", "milter_client": "filterd.milter.client", "Resolver": "filterd.dns",
}
"""Public names imported when first asked for: name -> the module that holds it (or is it)."""


def __getattr__(name: str) -> Any:
    """The table interface and the milter client, imported on first use (PEP 562)."""
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module 'filterd' has no attribute {name!r}")
    found = importlib.import_module(module)
    value = found if name == "milter_client" else getattr(found, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
