"""The helpers a plugin that calls a daemon reads its parameters with: address, choice, timeout."""

import pytest

from filterd import Endpoint, ParameterError, one_of, parse_endpoint, service_timeout
from filterd.config import Config, parse_main_cf
from filterd.parameters import CORE_PARAMETERS
from filterd.config import Parameter


@pytest.mark.parametrize("value, endpoint", [("inet:127.0.0.1:783", Endpoint("127.0.0.1", 783)),
                                             ("inet:[::1]:3310", Endpoint("::1", 3310)),
                                             ("inet:spamd.example:783", Endpoint("spamd.example", 783)),
                                             ("unix:/run/clamav/clamd.ctl", Endpoint("/run/clamav/clamd.ctl")),
                                             ("local:/tmp/s", Endpoint("/tmp/s"))])
def test_an_address_as_smtpd_milters_names_one(value, endpoint):
    assert parse_endpoint("x_daemon", value) == endpoint
    assert str(endpoint) == value.replace("local:", "unix:").replace("[::1]", "::1")


@pytest.mark.parametrize("value", ["127.0.0.1:783", "inet:host", "inet:host:0", "inet:host:70000", "unix:relative",
                                   "tcp:host:1", ""])
def test_a_bad_address_names_the_parameter(value):
    with pytest.raises(ParameterError, match="x_daemon.*expected inet:HOST:PORT or unix:/PATH"):
        parse_endpoint("x_daemon", value)


def test_one_of_refuses_a_word_not_offered():
    assert one_of("x_action", "tempfail", ("accept", "tempfail")) == "tempfail"
    with pytest.raises(ParameterError, match='bad value "maybe": expected one of accept, tempfail'):
        one_of("x_action", "maybe", ("accept", "tempfail"))


def config(text: str) -> Config:
    known = {**CORE_PARAMETERS, "x_timeout": Parameter("x_timeout", "20s", "time")}
    return Config(parse_main_cf(text, "main.cf"), known, "main.cf")


def test_a_daemon_s_timeout_must_run_out_before_plugin_timeout():
    assert service_timeout(config("x_timeout = 5s\n"), "x_timeout") == 5
    with pytest.raises(ParameterError, match="is not below plugin_timeout"):
        service_timeout(config("x_timeout = 5m\nplugin_timeout = 1m\n"), "x_timeout")
