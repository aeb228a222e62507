"""Policy delegation's parameters: Postfix's smtpd_policy_service_* defaults, the values Postfix refuses, and the
policy listener's items."""

from __future__ import annotations

import subprocess

import pytest

from filterd.config import Config, ConfigError, parse_main_cf
from filterd.parameters import CORE_PARAMETERS, parse_listener, validate_values
from filterd.parameters.policy import POLICY_PARAMETERS

POSTFIX_NAMES = [name for name in POLICY_PARAMETERS if name.startswith("smtpd_policy_service_")]


def config(text: str) -> Config:
    return Config(parse_main_cf(text, "main.cf"), CORE_PARAMETERS, "main.cf")


def test_the_client_s_defaults_are_postfix_s():
    shown = subprocess.run(["postconf", "-d", *POSTFIX_NAMES], capture_output=True, text=True, check=True).stdout
    pairs = (line.partition("=")[::2] for line in shown.splitlines())
    assert {name.strip(): value.strip() for name, value in pairs} == \
        {name: CORE_PARAMETERS[name].default for name in POSTFIX_NAMES}
    assert len(POSTFIX_NAMES) == 8


@pytest.mark.parametrize("line, message", [
    ("smtpd_policy_service_retry_delay = 0", 'smtpd_policy_service_retry_delay: bad value "0": expected at least 1'),
    ("smtpd_policy_service_try_limit = 0", 'smtpd_policy_service_try_limit: bad value "0": expected at least 1'),
    ("smtpd_policy_service_timeout = 0s", 'smtpd_policy_service_timeout: bad value "0s": expected at least 1'),
    ("filterd_policy_max_idle = soon", 'bad time value "soon"'),
    ("filterd_listeners = policy:127.0.0.1", 'bad listener "policy:127.0.0.1"'),
])
def test_values_postfix_refuses_are_errors_with_their_line(line, message):
    with pytest.raises(ConfigError, match=message) as info:
        validate_values(config(f"myhostname = h.example\n{line}\n"))
    assert info.value.lineno == 2


def test_a_policy_listener_is_host_port_or_a_unix_socket():
    assert parse_listener("policy:127.0.0.1:10040") == ("policy", "127.0.0.1", 10040)
    assert parse_listener("policy:unix:/run/filterd/policy") == ("policy", "/run/filterd/policy", 0)
    validate_values(config("filterd_listeners = policy:127.0.0.1:10040, milter:unix:/run/m\n"))
