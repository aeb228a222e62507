"""The headers Postfix's cleanup adds to a message that lacks them (Message-Id, Date, From, or their Resent-
forms when the message has Resent- headers), for the clients local_header_rewrite_clients names, or for every
client with always_add_missing_headers = yes. Used where filterd queues mail as Postfix's cleanup would."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from filterd import maillog
from filterd.interfaces import own_addresses
from filterd.content import Header
from filterd.maildate import mail_date
from filterd.model import Message
from filterd.network import in_networks, networks

_RULES = frozenset({"permit_inet_interfaces", "permit_mynetworks", "permit_sasl_authenticated",
                    "permit_tls_clientcerts", "permit_tls_all_clientcerts"})


@dataclass(frozen=True)
class MissingHeaders:
    """Who gets the headers added, and what names them (myhostname in Message-Id)."""

    myhostname: str
    always: bool = False
    interfaces: frozenset = frozenset()
    mynetworks: tuple = ()
    rules: tuple[str, ...] = ("permit_inet_interfaces",)
    remote_domain: str = ""
    """remote_header_rewrite_domain: the other clients' bare header addresses get it (none when empty)."""

    @classmethod
    def from_config(cls, config) -> MissingHeaders:
        rules = tuple(rule.lower() for rule in config.list("local_header_rewrite_clients"))
        for rule in rules:
            if rule not in _RULES:
                maillog.warning("cleanup", "local_header_rewrite_clients: unsupported rule %s: ignored", rule)
        return cls(config.get("myhostname"), config.bool("always_add_missing_headers"),
                   own_addresses(config.list("inet_interfaces")), networks(config.list("mynetworks")), rules,
                   config.get("remote_header_rewrite_domain").strip())

    def applies(self, client_address: str) -> bool:
        """Does this client get missing headers added (local_header_rewrite_clients, remote_header_rewrite_domain,
        or always)?"""
        return self.always or bool(self.remote_domain) or self.rewrites(client_address)

    def rewrites(self, client_address: str) -> bool:
        """Is this client one of local_header_rewrite_clients (Postfix's local rewriting context)?"""
        if "permit_mynetworks" in self.rules and in_networks(client_address, self.mynetworks):
            return True
        return "permit_inet_interfaces" in self.rules and _is_interface(client_address, self.interfaces)

    def missing_id(self, headers: list[Header], queue_id: str, when: float | None = None) -> str:
        """The `message-id=<ID>` (`resent-message-id=`) that cleanup adds and logs when these headers lack one, or
        "": an ID made of the time, the queue ID and myhostname."""
        wanted = f"{_resent(headers)}message-id".lower()
        if any(h.name.lower() == wanted for h in headers):
            return ""
        when = time.time() if when is None else when
        return f"{wanted}=<{time.strftime('%Y%m%d%H%M%S', time.localtime(when))}.{queue_id}@{self.myhostname}>"

    def add(self, message: Message, sender: str, queue_id: str, when: float | None = None) -> str:
        """Append what the message lacks, as cleanup does (the sender in its external form, as the SMTP server
        passes it); the name and value of the Message-Id it added, for the log, or ""."""
        when = time.time() if when is None else when
        resent = _resent(message.headers)
        added = self.missing_id(message.headers, queue_id, when)
        if added:
            message.headers.append(Header.make(f"{resent}Message-Id", added.partition("=")[2]))
        if f"{resent}Date" not in message:
            message.headers.append(Header.make(f"{resent}Date", mail_date(when)))
        if f"{resent}From" not in message:
            message.headers.append(Header.make(f"{resent}From", sender or "MAILER-DAEMON"))
        return added


def _resent(headers: list[Header]) -> str:
    return "Resent-" if any(h.name.lower().startswith("resent-") for h in headers) else ""


def _is_interface(address: str, interfaces: frozenset) -> bool:
    try:
        return ipaddress.ip_address(address.removeprefix("IPv6:")) in interfaces
    except ValueError:
        return False
