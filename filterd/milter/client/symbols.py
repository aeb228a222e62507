"""Sendmail macros as Postfix's smtpd emulates them for milters (MILTER_README, "Sendmail macro emulation"):
which names go with which event (milter_*_macros, or the milter's own SETSYMLIST lists), and their values
from the session and envelope. A macro without a value is not sent, unless milter_macro_defaults names one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from filterd.milter.protocol import codes
from filterd.milter.protocol.macros import bare
from filterd.model import Envelope, Session

STAGE_PARAMETERS = {
    codes.CONNECT: "milter_connect_macros", codes.HELO: "milter_helo_macros", codes.MAIL: "milter_mail_macros",
    codes.RCPT: "milter_rcpt_macros", codes.DATA: "milter_data_macros", codes.EOH: "milter_end_of_header_macros",
    codes.BODYEOB: "milter_end_of_data_macros", codes.UNKNOWN: "milter_unknown_command_macros",
}
"""The main.cf list of macro names sent with each event; HEADER and BODY get the EOH and end-of-data lists."""

LIST_OF = {codes.HEADER: codes.EOH, codes.BODY: codes.BODYEOB}
SYMLIST_STAGE = {codes.CONNECT: codes.Stage.CONNECT, codes.HELO: codes.Stage.HELO, codes.MAIL: codes.Stage.ENVFROM,
                 codes.RCPT: codes.Stage.ENVRCPT, codes.DATA: codes.Stage.DATA, codes.EOH: codes.Stage.EOH,
                 codes.BODYEOB: codes.Stage.EOM}


@dataclass(frozen=True)
class MacroSettings:
    """What the macros are made of besides the session: main.cf's names, lists and defaults."""

    lists: dict[bytes, str] = field(default_factory=dict)
    myhostname: str = "localhost"
    daemon_name: str = "localhost"
    version: str = "filterd"
    defaults: dict[str, str] = field(default_factory=dict)


@dataclass
class Context:
    """Where the SMTP session stands when an event goes out: the recipient at hand, if any."""

    session: Session
    envelope: Envelope | None = None
    recipient: str | None = None


def _domain(address: str | None) -> str | None:
    return None if address is None else address.rpartition("@")[2]


_VALUES: dict[str, Callable[[Context, MacroSettings], str | None]] = {
    "_": lambda c, s: f"{c.session.client_name} [{c.session.client_address}]",
    "j": lambda c, s: s.myhostname,
    "daemon_name": lambda c, s: s.daemon_name,
    "daemon_addr": lambda c, s: c.session.server_address or None,
    "daemon_port": lambda c, s: str(c.session.server_port) if c.session.server_address else None,
    "v": lambda c, s: s.version,
    "client_addr": lambda c, s: c.session.client_address,
    "client_port": lambda c, s: str(c.session.client_port),
    "client_connections": lambda c, s: "0",
    "client_name": lambda c, s: c.session.client_name,
    "client_ptr": lambda c, s: c.session.reverse_name,
    "client_resolve": lambda c, s: c.session.name_status,
    "i": lambda c, s: (c.envelope.queue_id or None) if c.envelope else None,
    "auth_type": lambda c, s: c.session.sasl_method or None,
    "auth_authen": lambda c, s: c.session.sasl_username or None,
    "auth_author": lambda c, s: c.session.sasl_sender or None,
    "tls_version": lambda c, s: c.session.tls_protocol or None,
    "cipher": lambda c, s: c.session.tls_cipher or None,
    "cipher_bits": lambda c, s: str(c.session.tls_cipher_bits) if c.session.tls_protocol else None,
    "mail_addr": lambda c, s: c.envelope.sender if c.envelope else None,
    "mail_host": lambda c, s: _domain(c.envelope.sender) if c.envelope and c.envelope.sender else None,
    "mail_mailer": lambda c, s: "smtp" if c.envelope and c.envelope.sender else None,
    "rcpt_addr": lambda c, s: c.recipient,
    "rcpt_host": lambda c, s: _domain(c.recipient),
    "rcpt_mailer": lambda c, s: None if c.recipient is None else "smtp",
}


def value(name: str, context: Context, settings: MacroSettings) -> str | None:
    """One macro's value (name with or without braces), else its milter_macro_defaults value, else None."""
    compute = _VALUES.get(bare(name))
    found = compute(context, settings) if compute else None
    return found if found is not None else settings.defaults.get(name, settings.defaults.get(bare(name)))


def names_for(event: bytes, settings: MacroSettings, own_lists: dict[int, str]) -> str:
    """The macro names sent with an event: the milter's own SETSYMLIST list if it gave one, else main.cf's."""
    stage = LIST_OF.get(event, event)
    own = own_lists.get(int(SYMLIST_STAGE[stage])) if stage in SYMLIST_STAGE else None
    return own if own else settings.lists.get(stage, "")


def macros(event: bytes, context: Context, settings: MacroSettings,
           own_lists: dict[int, str]) -> tuple[tuple[str, str], ...]:
    """(name, value) pairs for the event's macro packet, names exactly as listed."""
    pairs = []
    for name in names_for(event, settings, own_lists).replace(",", " ").split():
        found = value(name, context, settings)
        if found is not None:
            pairs.append((name, found))
    return tuple(pairs)


def parse_defaults(text: str) -> dict[str, str]:
    """milter_macro_defaults: name=value pairs separated by commas or white space."""
    pairs = {}
    for item in text.replace(",", " ").split():
        name, equals, found = item.partition("=")
        if not equals or not name:
            raise ValueError(f'bad milter_macro_defaults item "{item}": expected name=value')
        pairs[name] = found
    return pairs
