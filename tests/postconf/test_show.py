"""postconf showing main.cf (filterd.postconf.command.postconf_main), against the output of Postfix 3.7's
own postconf on the same main.cf text."""

from __future__ import annotations

import io

import pytest

from filterd.config import Config, parse_main_cf
from filterd.interfaces import mynetworks, own_interfaces
from filterd.parameters import CORE_PARAMETERS
from filterd.postconf.command import postconf_main


def cfg(text, known, overrides=None, filename="main.cf"):
    return Config(parse_main_cf(text, filename), known, filename, overrides)


def postconf(argv, config):
    out, err = io.StringIO(), io.StringIO()
    rc = postconf_main(argv, config, out, err)
    return rc, out.getvalue(), err.getvalue()


# --- postconf ------------------------------------------------------------------------------

POSTFIX_MAIN_CF = """\
# comment
  # indented comment
myhostname = mail.example.com
mydomain=example.com
mydestination = $myhostname,
    localhost.$mydomain
\tlocalhost   
relayhost = ${mydomain?[smtp.$mydomain]}
smtpd_banner = $(myhostname) ${nosuch:fallback} $$ x ${mail_name?{A}:{B}} ${relayhost:{empty}}
mail_name = one
mail_name = two
mynetworks = 10.0.0.0/8    192.168.0.0/16
"""

# Postfix 3.7 `postconf -n` / `postconf -nx` for POSTFIX_MAIN_CF (its config_directory line omitted).
POSTFIX_N = """\
mail_name = two
mydestination = $myhostname, localhost.$mydomain localhost
mydomain = example.com
myhostname = mail.example.com
mynetworks = 10.0.0.0/8 192.168.0.0/16
relayhost = ${mydomain?[smtp.$mydomain]}
smtpd_banner = $(myhostname) ${nosuch:fallback} $$ x ${mail_name?{A}:{B}} ${relayhost:{empty}}
"""
POSTFIX_NX = """\
mail_name = two
mydestination = mail.example.com, localhost.example.com localhost
mydomain = example.com
myhostname = mail.example.com
mynetworks = 10.0.0.0/8 192.168.0.0/16
relayhost = [smtp.example.com]
smtpd_banner = mail.example.com fallback $ x A
"""


@pytest.fixture
def pc():
    return cfg(POSTFIX_MAIN_CF, CORE_PARAMETERS)


def test_postconf_n_matches_postfix(pc):
    assert postconf(["-n"], pc) == (0, POSTFIX_N, "")


def test_postconf_nx_matches_postfix(pc):
    assert postconf(["-n", "-x"], pc) == (0, POSTFIX_NX, "")
    assert postconf(["-nx"], pc) == (0, POSTFIX_NX, "")


def test_postconf_nh_prints_values_only(pc):
    rc, out, _ = postconf(["-nh"], pc)
    assert out == "".join(line.split(" = ", 1)[1] + "\n" for line in POSTFIX_N.splitlines())


def test_postconf_all_in_force_sorted_unexpanded(pc):
    rc, out, err = postconf([], pc)
    lines = out.splitlines()
    assert rc == 0 and err == ""
    assert [line.split(" =")[0] for line in lines] == sorted(CORE_PARAMETERS)
    assert "myorigin = $myhostname" in lines
    assert "mail_name = two" in lines
    assert "relayhost = ${mydomain?[smtp.$mydomain]}" in lines
    assert "maillog_file =" in lines


def test_postconf_names_in_argument_order(pc):
    assert postconf(["mail_name", "myorigin"], pc) == (0, "mail_name = two\nmyorigin = $myhostname\n", "")


def test_postconf_h_and_x(pc):
    assert postconf(["-h", "mydestination"], pc)[1] == "$myhostname, localhost.$mydomain localhost\n"
    expanded = "mail.example.com fallback $ x A\n[smtp.example.com]\n"
    assert postconf(["-xh", "smtpd_banner", "relayhost"], pc)[1] == expanded
    assert postconf(["-x", "myorigin"], pc)[1] == "myorigin = mail.example.com\n"
    assert postconf(["-x", "-x", "myorigin"], pc)[1] == "myorigin = mail.example.com\n"


def test_postconf_empty_value(pc):
    assert postconf(["maillog_file"], pc)[1] == "maillog_file =\n"
    assert postconf(["-h", "maillog_file"], pc)[1] == "\n"


def test_postconf_unknown_name_warns_and_exits_zero(pc):
    rc, out, err = postconf(["-xh", "smtpd_banner", "relayhost", "nosuchparam"], pc)
    assert rc == 0
    assert out == "mail.example.com fallback $ x A\n[smtp.example.com]\n"
    assert err == "postconf: warning: nosuchparam: unknown parameter\n"


def test_postconf_d_ignores_file(pc):
    assert postconf(["-d", "mail_name", "myorigin"], pc) == (0, "mail_name = filterd\nmyorigin = $myhostname\n", "")
    assert postconf(["-dh", "mail_name"], pc)[1] == "filterd\n"
    assert postconf(["-dx", "myorigin"], pc)[1] == f"myorigin = {CORE_PARAMETERS['myhostname'].default}\n"
    rc, out, _ = postconf(["-d"], pc)
    defaults = Config([], CORE_PARAMETERS)
    assert out.splitlines() == [
        f"{n} = {defaults.raw(n)}" if defaults.raw(n) else f"{n} =" for n in sorted(CORE_PARAMETERS)]
    assert f"mynetworks = {mynetworks('host', own_interfaces(['all'], ['all']))}" in out.splitlines()


def test_postconf_n_with_names_shows_only_those_set(pc):
    assert postconf(["-n", "mail_name", "myorigin"], pc) == (0, "mail_name = two\n", "")
    assert postconf(["-hn", "myhostname"], pc)[1] == "mail.example.com\n"
    assert postconf(["-n", "nosuch"], pc) == (0, "", "postconf: warning: nosuch: unknown parameter\n")


def test_postconf_options_end_at_first_name_like_postfix(pc):
    rc, out, err = postconf(["mail_name", "-n"], pc)
    assert (rc, out) == (0, "mail_name = two\n")
    assert err == "postconf: warning: -n: unknown parameter\n"
    assert postconf(["-n", "--", "mail_name"], pc)[1] == "mail_name = two\n"


def test_postconf_rejects_d_with_n(pc):
    assert postconf(["-d", "-n"], pc) == (1, "", "postconf: fatal: specify one of -d -n\n")
    assert postconf(["-nd"], pc)[0] == 1


def test_postconf_invalid_option(pc):
    rc, out, err = postconf(["-q"], pc)
    assert (rc, out) == (1, "")
    assert err.startswith("postconf: invalid option -- 'q'\n")


def test_postconf_overrides_show_in_n():
    c = cfg("myhostname = h.example\n", CORE_PARAMETERS, {"mail_name": "X"})
    assert postconf(["-n"], c)[1] == "mail_name = X\nmyhostname = h.example\n"


def test_a_postfix_parameter_filterd_does_not_implement_is_shown_as_postfix_shows_it(tmp_path):
    """Set in main.cf: listed by -n without the unused-parameter warning; asked for by name: its value, else
    Postfix's default; a name Postfix does not know either is still unknown."""
    from filterd.postconf.command import run

    (tmp_path / "main.cf").write_text("biff = no\n")
    out, err = io.StringIO(), io.StringIO()
    assert run(["-c", str(tmp_path), "-n"], None, None, out, err) == 0
    assert "biff = no\n" in out.getvalue() and err.getvalue() == ""
    out, err = io.StringIO(), io.StringIO()
    assert run(["-c", str(tmp_path), "biff", "alias_maps", "bifff"], None, None, out, err) == 0
    assert out.getvalue() == "biff = no\nalias_maps = hash:/etc/aliases, nis:mail.aliases\n"
    assert err.getvalue() == "postconf: warning: bifff: unknown parameter\n"
