"""Helpers for plugin authors: run a plugin (or several) on a message in a unit test, no network.

    from filterd.testing import run_plugin
    outcome = run_plugin(my_plugin, b"Subject: hi\\r\\n\\r\\nbody\\r\\n")
    assert outcome.action is Action.REJECT
"""

from __future__ import annotations

import asyncio
import email.message
from typing import Any

from filterd.chain import Chain
from filterd.config import Config
from filterd.parameters import CORE_PARAMETERS
from filterd.registry import Plugins
from filterd.simulate import Outcome, simulate
from filterd.startup import plugin_parameters


def make_message(subject: str = "test", body: str = "hello\n", sender: str = "sender@example.org",
                 to: str = "recipient@example.net", headers: dict[str, str] | None = None,
                 attachments: dict[str, bytes] | None = None) -> bytes:
    """A small well-formed message as bytes, optionally with attachments (file name -> content)."""
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, content in (attachments or {}).items():
        msg.add_attachment(content, maintype="application", subtype="octet-stream", filename=filename)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def load_plugins(*plugins: Any, settings: dict[str, str] | None = None) -> Plugins:
    """Register plugin objects in the order given and configure them with `settings` (main.cf names)."""
    named = {getattr(p, "__name__", type(p).__name__): p for p in plugins}
    loaded = Plugins.load(list(named), named)
    known = dict(CORE_PARAMETERS)
    known.update(plugin_parameters(loaded))
    entries = [(name, value, i + 1) for i, (name, value) in enumerate((settings or {}).items())]
    loaded.configure(Config(entries, known, "<test>"))
    return loaded


async def run_plugin_async(*plugins: Any, message: bytes, settings: dict[str, str] | None = None,
                           timeout: float = 30.0, error_action: str = "tempfail", **envelope: Any) -> Outcome:
    chain = Chain(load_plugins(*plugins, settings=settings), timeout, error_action)
    return await simulate(chain, message, **envelope)


def run_plugin(*plugins: Any, message: bytes, settings: dict[str, str] | None = None, **envelope: Any) -> Outcome:
    """Run the plugins' hooks on `message` as a client would send it; returns the Outcome.

    Keyword arguments: sender, recipients, client_address, client_name, helo (see filterd.simulate).
    """
    return asyncio.run(run_plugin_async(*plugins, message=message, settings=settings, **envelope))
