"""smtpd_milters in Postfix's syntax, per-milter settings included, with strings alone."""

from __future__ import annotations

import pytest

from filterd.milter.client.endpoints import EndpointError, MilterSpec, parse_milters, split_list

DEFAULTS = MilterSpec("", 30.0, 30.0, 300.0, "tempfail", "6")


def test_plain_endpoints_take_the_main_cf_settings():
    specs = parse_milters("inet:127.0.0.1:8891, unix:/run/milter.sock\n local:/x", DEFAULTS)
    assert [s.name for s in specs] == ["inet:127.0.0.1:8891", "unix:/run/milter.sock", "local:/x"]
    assert all(s.default_action == "tempfail" and s.content_timeout == 300.0 for s in specs)
    assert specs[0].inet_address() == ("127.0.0.1", "8891")
    assert specs[1].transport == "unix" and specs[1].unix_path() == "/run/milter.sock"


def test_settings_in_braces_override_per_milter():
    text = "{ inet:host:1, connect_timeout=10s, default_action=accept }, inet:[::1]:2, " \
           "{inet:host:3 command_timeout=2m content_timeout=1h { protocol = 4 no_header_reply }}"
    first, second, third = parse_milters(text, DEFAULTS)
    assert (first.name, first.connect_timeout, first.default_action) == ("inet:host:1", 10.0, "accept")
    assert first.command_timeout == 30.0
    assert second.inet_address() == ("::1", "2") and second.default_action == "tempfail"
    assert (third.command_timeout, third.content_timeout, third.protocol) == (120.0, 3600.0, "4 no_header_reply")


def test_split_keeps_groups_whole():
    assert split_list("a, {b c, {d = e f}} ,g") == ["a", "{b c, {d = e f}}", "g"]
    assert split_list("") == []


@pytest.mark.parametrize("text, message", [
    ("inet:host", "expected inet:host:port"),
    ("host:25", "invalid transport name: host in Milter service: host:25"),
    ("nocolon", "Milter service needs transport:endpoint"),
    ("{inet:h:1, default_action=bounce}", 'bad default_action "bounce"'),
    ("{inet:h:1, timeout=10s}", 'unknown milter setting "timeout"'),
    ("{inet:h:1, connect_timeout=soon}", 'connect_timeout: bad time value "soon"'),
    ("{inet:h:1, connect_timeout}", 'missing "=" in milter setting'),
    ("{inet:h:1", 'missing "}"'),
    ("inet:h:1}", 'unbalanced "}"'),
    ("{}", "empty milter definition"),
])
def test_malformed_lists_are_refused(text, message):
    with pytest.raises(EndpointError, match=message):
        parse_milters(text, DEFAULTS)
