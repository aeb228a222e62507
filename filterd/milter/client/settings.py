"""The milter client's settings: its main.cf parameters, with Postfix's names and defaults (postconf -d | grep
milter), and their reading into ClientSettings at start-up, where a malformed value names its parameter."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from filterd import __version__, maillog
from filterd.config import Config, Parameter
from filterd.milter.client.dialogue import MilterError, Protocol
from filterd.milter.client.endpoints import EndpointError, MilterSpec, check_action, parse_milters
from filterd.milter.client.symbols import STAGE_PARAMETERS, MacroSettings, parse_defaults
from filterd.tables import open_tables

MACRO_LISTS = {
    "milter_connect_macros": "j {daemon_name} {daemon_addr} v _",
    "milter_helo_macros": "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
    "milter_mail_macros": "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}",
    "milter_rcpt_macros": "i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
    "milter_data_macros": "i", "milter_end_of_header_macros": "i", "milter_end_of_data_macros": "i",
    "milter_unknown_command_macros": "",
}
PARAMETERS = [
    Parameter("smtpd_milters", "", doc="Milters for mail that arrives by SMTP, in the order they run."),
    Parameter("smtpd_milter_maps", "", "list",
              doc="Lookup tables with Milter settings per remote SMTP client IP address: the result overrides "
                  "smtpd_milters (DISABLE: none)."),
    Parameter("milter_default_action", "tempfail", doc="accept, reject, tempfail or quarantine when a milter fails."),
    Parameter("milter_connect_timeout", "30s", "time", doc="Time limit for connecting to a milter."),
    Parameter("milter_command_timeout", "30s", "time", doc="Time limit for a milter's answer to an SMTP command."),
    Parameter("milter_content_timeout", "300s", "time", doc="Time limit for a milter's answer to message content."),
    Parameter("milter_protocol", "6", doc="The milter protocol version, and extensions such as no_header_reply."),
    Parameter("milter_macro_daemon_name", "$myhostname", doc="The {daemon_name} macro's value."),
    Parameter("milter_macro_v", f"$mail_name {__version__}", doc="The v macro's value."),
    Parameter("milter_macro_defaults", "", doc="name=value defaults for macros that have no value."),
    *(Parameter(name, default, doc="Macros sent to milters at this stage.") for name, default in MACRO_LISTS.items()),
]


@dataclass(frozen=True)
class ClientSettings:
    """The milters and macro settings in force, read once from main.cf; smtpd_milter_maps' tables choose other
    milters per client address."""

    milters: tuple[MilterSpec, ...] = ()
    symbols: MacroSettings = MacroSettings()
    mail_name: str = "filterd"
    maps: tuple = ()
    defaults: MilterSpec | None = None

    def milters_for(self, address: str, service: str = "smtpd") -> tuple[MilterSpec, ...]:
        """The milters for a client: smtpd_milter_maps' result for its address (DISABLE: none), else smtpd_milters.
        A result that is not a milter list is warned about, and smtpd_milters used."""
        found = next((value for table in self.maps if (value := table.lookup(address)) is not None), None)
        if found is None:
            return self.milters
        if found.strip().upper() == "DISABLE":
            return ()
        try:
            return _parsed(found, self.defaults or MilterSpec(""))
        except (EndpointError, MilterError, ValueError) as error:
            maillog.warning(service, "smtpd_milter_maps: bad result for %s: %s", address, error)
            return self.milters


@functools.lru_cache(maxsize=64)
def _parsed(text: str, defaults: MilterSpec) -> tuple[MilterSpec, ...]:
    milters = tuple(parse_milters(text, defaults))
    for spec in milters:
        Protocol.parse(spec.protocol)
    return milters


def _checked(config: Config, name: str, check):
    try:
        return check(config.get(name))
    except (EndpointError, MilterError, ValueError) as error:
        raise config.error(name, str(error)) from None


def read_settings(config: Config) -> ClientSettings:
    """Everything the milter client needs, checked: ConfigError names the parameter and its line."""
    _checked(config, "milter_protocol", Protocol.parse)
    defaults = MilterSpec("", config.time("milter_connect_timeout"), config.time("milter_command_timeout"),
                          config.time("milter_content_timeout"),
                          _checked(config, "milter_default_action", check_action), config.get("milter_protocol"))
    milters = _checked(config, "smtpd_milters", lambda text: tuple(parse_milters(text, defaults)))
    for spec in milters:
        _checked(config, "smtpd_milters", lambda _: Protocol.parse(spec.protocol))
    symbols = MacroSettings({code: config.get(name) for code, name in STAGE_PARAMETERS.items()},
                            config.get("myhostname"), config.get("milter_macro_daemon_name"),
                            config.get("milter_macro_v"), _checked(config, "milter_macro_defaults", parse_defaults))
    maps = _checked(config, "smtpd_milter_maps", lambda text: tuple(open_tables(text)))
    return ClientSettings(milters, symbols, config.get("mail_name"), maps, defaults)
