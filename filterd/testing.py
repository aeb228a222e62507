"""Helpers for plugin authors: run a plugin (or several) on a message in a unit test, no network.

    from filterd import Action
    from filterd.testing import make_message, run_plugin

    outcome = run_plugin(my_plugin, message=make_message(subject="hi"), settings={"my_limit": "3"})
    assert outcome.action is Action.REJECT

run_plugin runs the in-session hooks (connect .. end_of_message) as a client's SMTP session would, run_queue the
after-queue `queue` hook as the queue manager would. Every setting given must take effect: one that neither a
plugin nor the chain reads is refused (ValueError), so a misspelt or meaningless setting never passes unnoticed.
docs/plugins.md documents every argument.
"""

from __future__ import annotations

import asyncio
import email.message
import re
from typing import Any

from filterd.chain import Chain
from filterd.config import Config, Parameter
from filterd.loading import plugin_parameters
from filterd.model import Envelope, Message, Session
from filterd.parameters import CORE_PARAMETERS
from filterd.queueid import new_queue_id
from filterd.registry import Plugins
from filterd.simulate import Outcome, simulate
from filterd.transaction import Transaction

__all__ = ["Outcome", "load_plugins", "make_message", "run_plugin", "run_plugin_async", "run_queue",
           "run_queue_async"]

SENDER, RECIPIENT = "sender@example.org", "recipient@example.net"
_REFERENCE = re.compile(r"\$[{(]?([A-Za-z0-9_]+)")


def make_message(subject: str = "test", body: str = "hello\n", sender: str = SENDER, to: str = RECIPIENT,
                 headers: dict[str, str] | None = None, attachments: dict[str, bytes] | None = None) -> bytes:
    """A small well-formed message as bytes (CRLF line endings): From: `sender`, To: `to`, Subject: `subject`,
    the `headers` given, a text/plain `body`, and `attachments` (file name -> content, application/octet-stream)."""
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, content in (attachments or {}).items():
        msg.add_attachment(content, maintype="application", subtype="octet-stream", filename=filename)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


class _ReadConfig(Config):
    """A Config that notes the parameters read once `read` is set, to tell a setting that did something."""

    read: set[str] | None = None

    def get(self, name: str) -> str:
        if self.read is not None:
            self.read.add(name)
        return super().get(name)

    def raw(self, name: str) -> str:
        if self.read is not None:
            self.read.add(name)
        return super().raw(name)

    def used(self) -> set[str]:
        """The parameters read, and those their values name ($name), all the way down."""
        used, todo = set(), list(self.read or ())
        while todo:
            name = todo.pop()
            if name in used or name not in self.known():
                continue
            used.add(name)
            todo += _REFERENCE.findall(super().raw(name))
        return used


def _configured(plugins: tuple[Any, ...], settings: dict[str, str] | None) -> tuple[Plugins, _ReadConfig]:
    """The plugins registered in the order given and configured with `settings`, and the configuration."""
    named = {getattr(p, "__name__", type(p).__name__): p for p in plugins}
    loaded = Plugins.load(list(named), named)
    entries = [(name, value, i + 1) for i, (name, value) in enumerate((settings or {}).items())]
    early = Config(entries, {**{name: Parameter(name, "") for name in settings or {}}, **CORE_PARAMETERS})
    known = dict(CORE_PARAMETERS)
    known.update(plugin_parameters(loaded, early))
    config = _ReadConfig(entries, known, "<test>")
    config.read = set()
    loaded.configure(config)
    return loaded, config


def _refuse_unused(config: _ReadConfig, settings: dict[str, str] | None, helper: str) -> None:
    """A setting that nothing read is a mistake in the test: say so rather than ignore it."""
    unused = sorted(set(settings or ()) - config.used())
    if unused:
        chain = "builds no chain" if helper == "load_plugins" else "reads only plugin_timeout, plugin_error_action and the score's parameters"
        raise ValueError(f"{helper}: setting {', '.join(unused)} has no effect: no plugin reads it, and "
                         f"{helper} {chain}")


def load_plugins(*plugins: Any, settings: dict[str, str] | None = None) -> Plugins:
    """The plugins (modules, instances, or classes, instantiated here) registered in the order given and
    configured with `settings` (main.cf names), as start-up does: for tests that drive a chain themselves.

    A refusal in configure raises ConfigError; a setting no plugin's configure reads raises ValueError.
    """
    loaded, config = _configured(plugins, settings)
    _refuse_unused(config, settings, "load_plugins")
    return loaded


def _chain(plugins: tuple[Any, ...], settings: dict[str, str] | None) -> tuple[Chain, _ReadConfig]:
    loaded, config = _configured(plugins, settings)
    return Chain.from_config(loaded, config), config


async def run_plugin_async(*plugins: Any, message: bytes, settings: dict[str, str] | None = None,
                           sender: str = SENDER, recipients: list[str] | tuple[str, ...] = (RECIPIENT,),
                           client_address: str = "127.0.0.1", client_name: str = "localhost",
                           helo: str = "localhost", add_received: bool = False) -> Outcome:
    """`run_plugin` for a test that runs its own event loop."""
    chain, config = _chain(plugins, settings)
    myhostname = config.get("myhostname") if add_received else "localhost"
    outcome = await simulate(chain, message, sender, recipients, client_address, client_name, helo, myhostname,
                             add_received)
    _refuse_unused(config, settings, "run_plugin")
    return outcome


def run_plugin(*plugins: Any, message: bytes, settings: dict[str, str] | None = None, sender: str = SENDER,
               recipients: list[str] | tuple[str, ...] = (RECIPIENT,), client_address: str = "127.0.0.1",
               client_name: str = "localhost", helo: str = "localhost", add_received: bool = False) -> Outcome:
    """Run the plugins' hooks, connect to end_of_message, on `message` as a client would send it; the Outcome.

    `settings` are main.cf settings: the plugins' parameters, and plugin_timeout and plugin_error_action, which
    bound each call as in the daemon. `sender` (the envelope's, "" for the null sender), `recipients`,
    `client_address`, `client_name` and `helo` describe the SMTP session. `add_received` puts filterd's own
    Received: header on top first, as the SMTP front end does (naming the `myhostname` setting).
    """
    return asyncio.run(run_plugin_async(*plugins, message=message, settings=settings, sender=sender,
                                        recipients=recipients, client_address=client_address,
                                        client_name=client_name, helo=helo, add_received=add_received))


async def run_queue_async(*plugins: Any, message: bytes, settings: dict[str, str] | None = None,
                          sender: str = SENDER, recipients: list[str] | tuple[str, ...] = (RECIPIENT,),
                          client_address: str = "127.0.0.1", client_name: str = "localhost",
                          helo: str = "localhost") -> Outcome:
    """`run_queue` for a test that runs its own event loop."""
    chain, config = _chain(plugins, settings)
    session = Session(client_address=client_address, client_name=client_name, helo=helo, protocol="ESMTP",
                      daemon_name="qmgr")
    envelope = Envelope(queue_id=new_queue_id(), sender=sender, recipients=list(recipients))
    txn = Transaction(session, envelope, Message.from_bytes(message), trace=[], service="qmgr")
    verdict = await chain.run("queue", txn)
    _refuse_unused(config, settings, "run_queue")
    final = verdict if verdict.final else None
    edited = txn.apply_edits() if final is None else txn.message
    return Outcome(final, edited, envelope, txn.trace, {}, txn.hold, txn.redirect, txn.filter, list(txn.bcc),
                   symbols=txn.symbols)


def run_queue(*plugins: Any, message: bytes, settings: dict[str, str] | None = None, sender: str = SENDER,
              recipients: list[str] | tuple[str, ...] = (RECIPIENT,), client_address: str = "127.0.0.1",
              client_name: str = "localhost", helo: str = "localhost") -> Outcome:
    """Run the plugins' after-queue `queue` hook on `message` as the queue manager would before delivery; the
    Outcome (REJECT: bounced, DEFER: deferred, HOLD, REDIRECT, BCC, edits). Arguments as for run_plugin."""
    return asyncio.run(run_queue_async(*plugins, message=message, settings=settings, sender=sender,
                                       recipients=recipients, client_address=client_address,
                                       client_name=client_name, helo=helo))
