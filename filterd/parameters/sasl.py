"""Postfix's SMTP AUTH parameters (SASL_README), with Postfix's names and defaults; filterd speaks to Dovecot only."""

from __future__ import annotations

from filterd.config import entry as _p
from filterd.config import Config, Parameter
from filterd.sasl.dovecot_protocol import SECURITY_FLAGS

SASL_TYPES = ("dovecot",)


SASL_PARAMETERS: dict[str, Parameter] = dict([
    _p("smtpd_sasl_auth_enable", "no", "bool", "Enable SASL authentication in the SMTP server (the AUTH command)."),
    _p("smtpd_sasl_exceptions_networks", "", "list",
       "What remote SMTP clients the Postfix SMTP server will not offer AUTH support to (AUTH itself still works)."),
    _p("smtpd_sasl_type", "cyrus", "str",
       "The SASL plug-in type that the SMTP server uses for authentication: filterd has dovecot only."),
    _p("smtpd_sasl_path", "smtpd", "str",
       "Where Dovecot's auth service listens: inet:HOST:PORT, or a unix socket (a relative path is under "
       "$queue_directory, as private/auth)."),
    _p("smtpd_sasl_service", "smtp", "str", "The service name that is passed to the SASL plug-in."),
    _p("smtpd_sasl_security_options", "noanonymous", "list",
       "The mechanisms not offered without TLS: noanonymous, noplaintext, nodictionary, noactive, mutual_auth."),
    _p("smtpd_sasl_tls_security_options", "$smtpd_sasl_security_options", "list",
       "The same as smtpd_sasl_security_options, once the session is encrypted with TLS."),
    _p("smtpd_sasl_authenticated_header", "no", "bool",
       'Report the SASL authenticated user name in the Received: header ("Authenticated sender: USER").'),
    _p("smtpd_tls_auth_only", "no", "bool",
       "Offer and accept AUTH only once the session is encrypted with TLS."),
    _p("smtpd_sasl_response_limit", "12288", "int",
       "The maximum length of a SASL client's response to a server challenge."),
    _p("smtpd_client_auth_rate_limit", "0", "int",
       "The maximal number of AUTH commands any client is allowed to send to this service per time unit "
       "(anvil_rate_time_unit; 0: no limit)."),
    _p("broken_sasl_auth_clients", "no", "bool",
       'Also announce AUTH as "AUTH=MECHANISMS", for clients that follow an obsolete draft (Outlook Express 4, '
       "Microsoft Exchange 5.0)."),
])


def validate_sasl(config: Config) -> None:
    """A SASL type filterd lacks or a security option Postfix does not know stops start-up, when AUTH is on."""
    if not config.bool("smtpd_sasl_auth_enable"):
        return
    kind = config.get("smtpd_sasl_type")
    if kind not in SASL_TYPES:
        raise config.error("smtpd_sasl_type", f'unsupported SASL server implementation "{kind}": expected dovecot')
    for name in ("smtpd_sasl_security_options", "smtpd_sasl_tls_security_options"):
        for option in config.list(name):
            if option.lower() not in SECURITY_FLAGS:
                raise config.error(name, f'unknown SASL security option "{option}": expected one of '
                                         f'{", ".join(SECURITY_FLAGS)}')
    path = config.get("smtpd_sasl_path")
    if path.startswith("inet:") and not path[5:].rpartition(":")[2].isdigit():
        raise config.error("smtpd_sasl_path", f'bad "{path}": expected inet:HOST:PORT or a unix socket path')
