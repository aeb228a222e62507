"""Postfix's TLS parameters for the SMTP server (smtpd_tls_*) and the SMTP client (smtp_tls_*), with Postfix's
defaults except the protocols: TLS 1.2 and later unless the administrator says otherwise."""

from __future__ import annotations

import re
import ssl

from filterd.config import entry as _p
from filterd.config import Config, Parameter

SERVER_LEVELS = ("", "none", "may", "encrypt")
CLIENT_LEVELS = ("", "none", "may", "encrypt", "verify", "secure")
CIPHER_GRADES = ("high", "medium")
PROTOCOL_PARAMETERS = ("smtpd_tls_protocols", "smtpd_tls_mandatory_protocols", "smtp_tls_protocols",
                       "smtp_tls_mandatory_protocols")


TLS_PARAMETERS: dict[str, Parameter] = dict([
    _p("smtpd_tls_security_level", "", "str",
       "The SMTP server's TLS level: none, may (offer STARTTLS) or encrypt (require it); empty: what the obsolete "
       "smtpd_enforce_tls (encrypt) and smtpd_use_tls (may) say, else none."),
    _p("smtpd_use_tls", "no", "bool", "Obsolete: with an empty smtpd_tls_security_level, yes means may."),
    _p("smtpd_enforce_tls", "no", "bool", "Obsolete: with an empty smtpd_tls_security_level, yes means encrypt."),
    _p("smtpd_tls_cert_file", "", "str", "The SMTP server's certificate in PEM format (with its chain)."),
    _p("smtpd_tls_chain_files", "", "list",
       "PEM files holding, read in order as one, each private key directly followed by its certificate chain; "
       "when set, smtpd_tls_cert_file and smtpd_tls_key_file are ignored."),
    _p("smtpd_tls_key_file", "$smtpd_tls_cert_file", "str", "The SMTP server's private key in PEM format."),
    _p("smtpd_tls_protocols", ">=TLSv1.2", "str", "The TLS protocols the SMTP server accepts with level may."),
    _p("smtpd_tls_mandatory_protocols", ">=TLSv1.2", "str",
       "The TLS protocols the SMTP server accepts with level encrypt."),
    _p("smtpd_tls_ciphers", "medium", "str", "The cipher grade (high or medium) with level may."),
    _p("smtpd_tls_mandatory_ciphers", "medium", "str", "The cipher grade (high or medium) with level encrypt."),
    _p("smtpd_tls_loglevel", "0", "int",
       "1 logs the TLS connection established line of each session; 0 logs no TLS activity."),
    _p("smtpd_tls_received_header", "no", "bool",
       "Record the TLS protocol and cipher in the Received: header, not only ESMTPS."),
    _p("smtpd_tls_wrappermode", "no", "bool",
       "Run TLS from the first byte (implicit TLS, port 465 style) instead of offering STARTTLS."),
    _p("smtpd_starttls_timeout", "300s", "time", "How long the SMTP server waits for the TLS handshake."),
    _p("tls_high_cipherlist", "aNULL:-aNULL:HIGH:@STRENGTH", "str", "The OpenSSL cipher list of grade high."),
    _p("tls_medium_cipherlist", "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH", "str",
       "The OpenSSL cipher list of grade medium."),
    _p("smtp_tls_security_level", "", "str",
       "The SMTP client's TLS level (queue delivery and the proxy's next hop): none, may, encrypt, verify or "
       "secure; empty is none."),
    _p("smtp_tls_CAfile", "", "str", "The certificate authorities the SMTP client trusts at levels verify and "
       "secure (PEM); empty: the system's."),
    _p("smtp_tls_CApath", "", "str", "A directory of trusted certificate authorities (c_rehash layout)."),
    _p("smtp_tls_protocols", ">=TLSv1.2", "str", "The TLS protocols the SMTP client uses with level may."),
    _p("smtp_tls_mandatory_protocols", ">=TLSv1.2", "str",
       "The TLS protocols the SMTP client uses with levels encrypt and above."),
    _p("smtp_tls_ciphers", "medium", "str", "The SMTP client's cipher grade with level may."),
    _p("smtp_tls_mandatory_ciphers", "medium", "str", "The SMTP client's cipher grade with levels encrypt and above."),
    _p("smtp_tls_loglevel", "0", "int", "1 logs the TLS connection established line of each delivery connection."),
    _p("smtp_starttls_timeout", "300s", "time", "How long the SMTP client waits for the TLS handshake."),
])


def _check_choice(config: Config, name: str, choices: tuple[str, ...]) -> None:
    value = config.get(name)
    if value not in choices:
        raise config.error(name, f'bad value "{value}": expected one of {", ".join(c for c in choices if c)}')


VERSIONS = {"SSLv2": None, "SSLv3": None, "TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
            "TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
_ORDER = list(VERSIONS)


def parse_protocols(text: str) -> tuple[ssl.TLSVersion, ssl.TLSVersion]:
    """Postfix's protocol list (`>=TLSv1.2`, `<=TLSv1.3`, `!TLSv1, !TLSv1.1`, `TLSv1.2 TLSv1.3`) as the lowest and
    highest TLS version allowed; ValueError when a name is unknown or nothing is left."""
    allowed, included = set(_ORDER), set()
    for word in re.split(r"[\s,:]+", text.strip()):
        if not word:
            continue
        op, name = re.match(r"(>=|<=|!)?(.*)", word).groups()
        if name not in VERSIONS:
            raise ValueError(f'bad protocol "{name}": expected {", ".join(_ORDER)}')
        at = _ORDER.index(name)
        if op == ">=":
            allowed -= set(_ORDER[:at])
        elif op == "<=":
            allowed -= set(_ORDER[at + 1:])
        elif op == "!":
            allowed.discard(name)
        else:
            included.add(name)
    versions = [VERSIONS[n] for n in _ORDER if n in (allowed & included if included else allowed) and VERSIONS[n]]
    if not versions:
        raise ValueError(f'"{text}" leaves no TLS protocol')
    return versions[0], versions[-1]


def validate_tls(config: Config) -> None:
    """Refuse a TLS level, cipher grade or protocol list that Postfix would not take."""
    _check_choice(config, "smtpd_tls_security_level", SERVER_LEVELS)
    _check_choice(config, "smtp_tls_security_level", CLIENT_LEVELS)
    for name in ("smtpd_tls_ciphers", "smtpd_tls_mandatory_ciphers", "smtp_tls_ciphers", "smtp_tls_mandatory_ciphers"):
        _check_choice(config, name, CIPHER_GRADES)
    for name in PROTOCOL_PARAMETERS:
        try:
            parse_protocols(config.get(name))
        except ValueError as exc:
            raise config.error(name, str(exc)) from None


def server_level(config: Config) -> str:
    """The SMTP server's TLS level: smtpd_tls_security_level, else as smtpd_enforce_tls and smtpd_use_tls say (as
    Postfix derives it from its pre-2.3 parameters)."""
    level = config.get("smtpd_tls_security_level")
    if level:
        return level
    if config.bool("smtpd_enforce_tls"):
        return "encrypt"
    return "may" if config.bool("smtpd_use_tls") else "none"
