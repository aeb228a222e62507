"""Settings from main.cf lines and a Check to ask restrictions about, for the restrictions' unit tests."""

from __future__ import annotations

import asyncio

from filterd.config import Config, Parameter
from filterd.model import Envelope, Session
from filterd.parameters import CORE_PARAMETERS
from filterd.policies.restrictions import parameters
from filterd.policies.restrictions.evaluation import Check, decide
from filterd.policies.restrictions.settings import Settings

LOCAL = {"mydestination": "local.example", "mynetworks": "192.0.2.0/24", "myorigin": "local.example",
         "myhostname": "mx.local.example"}


def settings(**values: str) -> Settings:
    """The settings of a main.cf with these lines (after LOCAL's), restriction classes declared as at start-up."""
    entries = [(name, value, n) for n, (name, value) in enumerate({**LOCAL, **values}.items(), 1)]
    early = Config(entries, {**{name: Parameter(name, "") for name, _, _ in entries}, **CORE_PARAMETERS})
    classes = {name: Parameter(name, default) for name, default in parameters(early).items()}
    return Settings.from_config(Config(entries, {**CORE_PARAMETERS, **classes}))


def check(settings_: Settings, client: str = "198.51.100.1", sender: str = "a@sender.example",
          recipient: str | None = "b@local.example", **session: str) -> Check:
    return Check(Session(client_address=client, **session), Envelope(sender=sender), settings_, recipient)


def verdict_at_rcpt(settings_: Settings, **kwargs):
    """What RCPT's lists decide for this client, sender and recipient."""
    return asyncio.run(decide(settings_.at_rcpt(), check(settings_, **kwargs)))
