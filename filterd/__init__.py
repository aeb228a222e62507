"""filterd: a plugin-based mail content filter built after Postfix's design.

The public API for plugin authors is what this module exports; nothing else is promised.
"""

from filterd.content import Header
from filterd.edits import ContentVerdict, InBody, MimeError
from filterd.model import Envelope, Message, Session
from filterd.registry import hookimpl
from filterd.verdict import (
    Action,
    AddHeader,
    ChangeHeader,
    DeleteHeader,
    InsertHeader,
    ReplaceBody,
    Verdict,
)

__version__ = "0.1.0"

__all__ = [
    "Action", "AddHeader", "ChangeHeader", "ContentVerdict", "DeleteHeader", "Envelope", "Header", "InBody",
    "InsertHeader", "Message", "MimeError", "ReplaceBody", "Session", "Verdict", "hookimpl", "__version__",
]
