"""filterd.parameters: the core parameters' defaults, and the checks of their values beyond their kinds."""

from __future__ import annotations

import pytest

from filterd.config import Config, ConfigError, parse_main_cf
from filterd.parameters import CORE_PARAMETERS, parse_hostport, parse_listener, validate_values


def cfg(text, known, overrides=None, filename="main.cf"):
    return Config(parse_main_cf(text, filename), known, filename, overrides)


# --- core parameters -----------------------------------------------------------------------

def test_core_defaults():
    d = {name: p.default for name, p in CORE_PARAMETERS.items()}
    assert d["mydomain"] == "localdomain"
    assert "." in d["myhostname"]
    assert d["mail_name"] == "filterd"
    assert d["queue_directory"] == "/var/spool/filterd"
    assert d["syslog_name"] == "filterd"
    assert d["smtpd_banner"] == "$myhostname ESMTP $mail_name"
    assert d["smtpd_timeout"] == "300s"
    assert d["smtpd_hard_error_limit"] == "20"
    assert d["mynetworks"] == "" and d["mynetworks_style"].endswith("? {subnet} : {host}}")
    assert d["smtpd_forbid_bare_newline"] == "normalize"
    assert d["smtpd_forbid_bare_newline_exclusions"] == "$mynetworks"
    assert d["message_size_limit"] == "10240000"
    assert d["mydestination"] == "$myhostname, localhost.$mydomain, localhost"
    assert d["filterd_listeners"] == "proxy:127.0.0.1:10025 sink:127.0.0.1:10026"
    assert d["filterd_sink_directory"] == "$queue_directory/sink"
    assert d["plugin_error_action"] == "tempfail"
    assert all(p.doc for p in CORE_PARAMETERS.values())
    assert all(name == p.name for name, p in CORE_PARAMETERS.items())


def test_core_defaults_are_valid_and_typed():
    c = cfg("", CORE_PARAMETERS)
    validate_values(c)
    assert c.time("plugin_timeout") == 30
    assert c.time("filterd_proxy_timeout") == 100
    assert c.time("smtpd_timeout") == 300
    assert c.int("filterd_worker_processes") == 2
    assert c.size("filterd_spool_memory_limit") == 65536
    assert c.list("filterd_plugins") == []
    assert c.get("filterd_sink_directory") == "/var/spool/filterd/sink"
    assert c.list("smtpd_forbid_bare_newline_exclusions") == c.list("mynetworks")
    assert {"127.0.0.1/32", "[::1]/128"} <= set(c.list("mynetworks"))
    assert c.get("smtpd_proxy_ehlo") == c.get("myhostname")
    assert [parse_listener(i) for i in c.list("filterd_listeners")] == [
        ("proxy", "127.0.0.1", 10025), ("sink", "127.0.0.1", 10026)]


@pytest.mark.parametrize("line, message", [
    ("plugin_error_action = discard", 'plugin_error_action: bad value "discard"'),
    ("smtpd_forbid_bare_newline = maybe", 'smtpd_forbid_bare_newline: bad value "maybe"'),
    ("smtpd_forbid_bare_newline_reject_code = 450", "smtpd_forbid_bare_newline_reject_code: bad value 450"),
    ("filterd_listeners = proxy:127.0.0.1:10025, bogus:127.0.0.1:1", 'bad listener "bogus:127.0.0.1:1"'),
    ("filterd_listeners = proxy:127.0.0.1", 'bad listener "proxy:127.0.0.1"'),
    ("filterd_listeners = sink:127.0.0.1:70000", 'bad listener "sink:127.0.0.1:70000"'),
    ("filterd_listeners = sink::25", 'bad listener "sink::25"'),
    ("filterd_proxy_nexthop = localhost", 'bad next hop "localhost"'),
    ("inet_protocols = ipv4, ipv5", 'inet_protocols: bad value "ipv5": expected one of all, ipv4, ipv6'),
    ("smtp_address_preference = both", 'smtp_address_preference: bad value "both": expected one of any, ipv4, ipv6'),
])
def test_validate_values_errors_with_line(line, message):
    c = cfg(f"myhostname = h.example\n{line}\n", CORE_PARAMETERS)
    with pytest.raises(ConfigError) as info:
        validate_values(c)
    assert info.value.lineno == 2
    assert str(info.value).startswith("main.cf:2: ")
    assert message in str(info.value)


def test_validate_values_override_has_no_line():
    c = cfg("", CORE_PARAMETERS, {"plugin_error_action": "bounce"})
    with pytest.raises(ConfigError) as info:
        validate_values(c)
    assert str(info.value).startswith('main.cf: plugin_error_action (override): bad value "bounce"')


@pytest.mark.parametrize("value", ["accept", "reject", "tempfail", "quarantine"])
def test_validate_values_accepts_every_error_action(value):
    validate_values(cfg(f"plugin_error_action = {value}\n", CORE_PARAMETERS))


@pytest.mark.parametrize("lines", ["inet_protocols = ipv4, ipv6\nsmtp_address_preference = ipv6",
                                   "inet_protocols = all\nsmtp_address_preference = ipv4", "inet_protocols ="])
def test_validate_values_accepts_postfixs_protocols_and_preferences(lines):
    validate_values(cfg(f"{lines}\n", CORE_PARAMETERS))


def test_parse_listener_and_hostport():
    assert parse_listener("sink:[::1]:10026") == ("sink", "::1", 10026)
    assert parse_listener("proxy:mx.example:25") == ("proxy", "mx.example", 25)
    assert parse_hostport("[2001:db8::1]:25") == ("2001:db8::1", 25)
    for bad in ("::1:25", "[::1:25", "host:0", "host:x", ":25"):
        with pytest.raises(ValueError):
            parse_hostport(bad)
