"""The milters plugin: Postfix's parameters and defaults, start-up checks, and no milters meaning no effect."""

from __future__ import annotations

import subprocess

import pytest

import filterd.plugins.milters as milters
from filterd.config import ConfigError
from filterd.testing import load_plugins, make_message, run_plugin
from filterd.verdict import Action

OURS = {"milter_macro_v": "$mail_name 0.1.0"}
"""Postfix's default is "$mail_name $mail_version"; filterd has no mail_version parameter."""


def test_parameters_have_postfix_s_names_and_defaults():
    declared = {p.name: p.default for p in milters.parameters()}
    names = sorted(declared)
    shown = subprocess.run(["postconf", "-d", *names], capture_output=True, text=True, check=True).stdout
    postfix = dict(line.split(" = ", 1) if " = " in line else (line.rstrip(" ="), "") for line in shown.splitlines())
    assert {name: OURS.get(name, postfix[name]) for name in names} == declared


@pytest.mark.parametrize("settings, message", [
    ({"smtpd_milters": "{ inet:127.0.0.1:1, default_action=bounce }"}, 'smtpd_milters: bad default_action "bounce"'),
    ({"smtpd_milters": "inet:127.0.0.1"}, "smtpd_milters: Milter service inet:127.0.0.1: expected inet:host:port"),
    ({"smtpd_milters": "{ inet:h:1, protocol=5 }"}, "smtpd_milters: bad protocol information: 5"),
    ({"milter_protocol": "6 7"}, "milter_protocol: bad protocol information: 7"),
    ({"milter_default_action": "hold"}, 'milter_default_action: bad default_action "hold"'),
    ({"milter_macro_defaults": "novalue"}, "milter_macro_defaults: bad milter_macro_defaults item"),
])
def test_a_bad_setting_stops_filterd_naming_the_parameter_and_line(settings, message):
    with pytest.raises(ConfigError, match=message) as refused:
        load_plugins(milters, settings=settings)
    assert refused.value.lineno == 1


def test_without_milters_the_plugin_changes_nothing():
    outcome = run_plugin(milters, message=make_message(subject="untouched"), settings={"smtpd_milters": ""})
    assert outcome.action is Action.DUNNO and outcome.header("Subject") == "untouched"
