"""`filterd postconf` as a command: its options, messages and exit codes (Postfix 3.7's, noted where they were
taken from `postconf -c DIR ...`), showing a main.cf file and editing it in place."""
from __future__ import annotations

import io
import os
import stat

import pytest

from filterd import cli
from filterd.postconf.command import run
from filterd.postconf.edit_file import EditFileError, edit_file
from filterd.postconf.options import USAGE, UsageError, parse_options


@pytest.fixture
def conf(tmp_path):
    """A configuration directory with a main.cf to edit."""
    (tmp_path / "main.cf").write_text("# limits\nmessage_size_limit = 20480000\nmynetworks = 127.0.0.0/8\n"
                                      "    10.0.0.0/8\nrelayhost =\n")
    return tmp_path


def postconf(conf, *argv, overrides=None):
    out, err = io.StringIO(), io.StringIO()
    rc = run(["-c", str(conf), *argv], None, overrides, out, err)
    return rc, out.getvalue(), err.getvalue()


def main_cf(conf):
    return (conf / "main.cf").read_text()


# --- the command line ----------------------------------------------------------------------

def test_h_prints_the_value_through_the_filterd_command(tmp_path, capsys):
    (tmp_path / "main.cf").write_text("# nothing set\n")
    assert cli.main(["postconf", "-c", str(tmp_path), "-h", "message_size_limit"]) == 0
    assert capsys.readouterr() == ("10240000\n", "")


def test_options_cluster_and_end_at_the_first_name():
    options = parse_options(["-nhx", "-c", "/etc/x", "-o", "a=b", "-oc=d", "mynetworks", "-d"])
    assert options.flags == {"n", "h", "x", "c", "o"}
    assert (options.config_dir, options.overrides, options.names) == ("/etc/x", ["a=b", "c=d"], ["mynetworks", "-d"])
    assert options.edit_mode is None


def test_a_first_name_value_pair_implies_e():
    assert parse_options(["a=b", "c"]).edit_mode == "-e"
    assert parse_options(["-X", "a"]).edit_mode == "-X"
    assert parse_options(["-#", "a"]).edit_mode == "-#"


@pytest.mark.parametrize("argv, message", [
    (["-dn"], "specify one of -d -n"),
    (["-n", "-d", "-e", "a=b"], "specify one of -d -e -n"),
    (["-hH"], "specify one of -h -H"),
    (["-X", "-#", "a"], "specify one of -X -#"),
    (["-X", "a=b"], "specify one of -e -X"),
    (["-#", "a=b"], "specify one of -e -#"),
    (["-n", "a=b"], "specify one of -e -n"),
    (["-ex", "a=b"], "specify one of -e -x"),
    (["-d", "-o", "a=b"], "specify one of -d -o"),
    (["-e", "-h", "a=b"], "specify one of -e -h"),
    (["-e"], "-e requires name=value argument"),
    (["-X"], "missing service argument"),
    (["-#"], "missing service argument"),
])
def test_option_conflicts_in_postfix_words(argv, message):
    with pytest.raises(UsageError) as info:
        parse_options(argv)
    assert info.value.lines == (f"fatal: {message}",)


def test_invalid_option_and_missing_argument_print_usage(conf):
    assert postconf(conf, "-z") == (1, "", f"postconf: invalid option -- 'z'\npostconf: fatal: {USAGE}\n")
    assert postconf(conf, "-o")[2] == f"postconf: option requires an argument -- 'o'\npostconf: fatal: {USAGE}\n"


def test_help_is_usage_and_options_on_stdout(conf):
    rc, out, err = postconf(conf, "--help")
    assert (rc, err) == (0, "")
    assert out.startswith("usage: filterd postconf ")
    for option in ("-d", "-e", "-h", "-H", "-n", "-o", "-p", "-x", "-X", "-#", "--help"):
        assert f"\n  {option} " in out


# --- showing -------------------------------------------------------------------------------

def test_show_n_h_H_and_names_in_order(conf):
    assert postconf(conf, "-n") == (0, f"config_directory = {conf}\nmessage_size_limit = 20480000\n"
                                       "mynetworks = 127.0.0.0/8 10.0.0.0/8\nrelayhost =\n", "")
    assert postconf(conf, "-nH")[1] == "config_directory\nmessage_size_limit\nmynetworks\nrelayhost\n"
    assert postconf(conf, "-h", "relayhost", "mynetworks")[1] == "\n127.0.0.0/8 10.0.0.0/8\n"
    assert postconf(conf, "-p", "-d", "message_size_limit")[1] == "message_size_limit = 10240000\n"


def test_unknown_name_warns_and_exits_zero(conf):
    assert postconf(conf, "-h", "nosuch", "relayhost") == (0, "\n", "postconf: warning: nosuch: unknown parameter\n")


def test_overrides_from_o_and_from_the_filterd_command_line(conf):
    assert postconf(conf, "-o", "relayhost=[mx]", "-h", "relayhost")[1] == "[mx]\n"
    assert postconf(conf, "-h", "relayhost", overrides={"relayhost": "[mx2]"})[1] == "[mx2]\n"
    assert postconf(conf, "-o", "relayhost", "relayhost") == (
        1, "", "postconf: fatal: invalid parameter override: relayhost: missing '=' after attribute name\n")


def test_unknown_entries_are_left_out_with_postfixs_unused_warning(conf):
    (conf / "main.cf").write_text("relayhost = [mx]\nrelay_host = [mx]\nmessage_size_limit = many\n")
    rc, out, err = postconf(conf, "-n")
    assert (rc, out) == (0, f"config_directory = {conf}\nmessage_size_limit = many\nrelayhost = [mx]\n")
    assert err == f"postconf: warning: {conf}/main.cf: unused parameter: relay_host=[mx]\n"
    assert postconf(conf, "-d", "relayhost") == (0, "relayhost =\n", "")


def test_plugin_parameters_are_known_when_the_plugin_is_listed(conf):
    (conf / "main.cf").write_text("filterd_plugins = header_checks\nbody_checks = pcre:/x\n")
    assert postconf(conf, "-h", "body_checks", "mime_header_checks") == (0, "pcre:/x\n$header_checks\n", "")
    (conf / "main.cf").write_text("body_checks = pcre:/x\n")
    assert postconf(conf, "-n")[2] == f"postconf: warning: {conf}/main.cf: unused parameter: body_checks=pcre:/x\n"


def test_c_takes_main_cf_itself_or_its_directory(conf):
    assert postconf(conf / "main.cf", "-h", "message_size_limit")[1] == "20480000\n"
    assert postconf(conf / "nosuch", "-n") == (
        1, "", f"postconf: fatal: open {conf}/nosuch: No such file or directory\n")


def test_main_cf_syntax_error_is_fatal_with_file_and_line(conf):
    (conf / "main.cf").write_text("relayhost = x\nbroken line\n")
    assert postconf(conf, "-n") == (
        1, "", f'postconf: fatal: {conf}/main.cf:2: missing "=" after parameter name: "broken line"\n')


# --- editing -------------------------------------------------------------------------------

def test_e_updates_in_place_and_appends(conf):
    assert postconf(conf, "-e", "mynetworks=10.0.0.0/8", "mydomain = example.com") == (0, "", "")
    assert main_cf(conf) == ("# limits\nmessage_size_limit = 20480000\nmynetworks = 10.0.0.0/8\nrelayhost =\n"
                             "mydomain = example.com\n")
    assert postconf(conf, "relayhost=[mx]:25") == (0, "", "")
    assert "relayhost = [mx]:25\n" in main_cf(conf)
    assert sorted(os.listdir(conf)) == ["main.cf"]


def test_edit_warnings_go_to_stderr(conf):
    (conf / "main.cf").write_text("relayhost = a\nrelayhost = b\n")
    rc, out, err = postconf(conf, "-e", "relayhost=1", "relayhost=2")
    assert (rc, out, main_cf(conf)) == (0, "", "relayhost = 2\nrelayhost = 2\n")
    assert err == ("postconf: warning: ignoring earlier request: 'relayhost = 1'\n"
                   f'postconf: warning: {conf}/main.cf: multiple entries for "relayhost"\n')


def test_e_sets_an_unknown_name_as_postfix_does_but_warns_that_filterd_will_not_start(conf):
    assert postconf(conf, "-e", "relayhost=x", "relay_host=[mx]") == (
        0, "", 'postconf: warning: relay_host: unknown parameter (did you mean "relayhost"?): '
               'filterd will not start with it\n')
    assert "relay_host = [mx]\n" in main_cf(conf)
    assert sorted(os.listdir(conf)) == ["main.cf"]


def test_e_knows_the_parameters_of_plugins_listed_in_the_same_edit(conf):
    assert "unknown parameter" in postconf(conf, "-e", "header_checks=pcre:/x")[2]
    postconf(conf, "-X", "header_checks")
    assert postconf(conf, "-e", "filterd_plugins=header_checks", "header_checks=pcre:/x") == (0, "", "")
    assert main_cf(conf).endswith("filterd_plugins = header_checks\nheader_checks = pcre:/x\n")


def test_X_and_comment_out_work_on_a_file_start_up_would_refuse(conf):
    (conf / "main.cf").write_text("relay_host = [mx]\n  [mx2]\nfilterd_plugins = nosuchplugin\nrelayhost =\n")
    assert postconf(conf, "-#", "filterd_plugins") == (0, "", "")
    assert postconf(conf, "-X", "relay_host") == (0, "", "")
    assert main_cf(conf) == "#filterd_plugins = nosuchplugin\nrelayhost =\n"


def test_edit_of_a_missing_file_fails_as_postfix(conf):
    rc, out, err = postconf(conf / "sub" / "main.cf", "-e", "relayhost=x")
    assert (rc, out) == (1, "")
    assert err == f"postconf: fatal: open {conf}/sub/main.cf.tmp: No such file or directory\n"
    os.makedirs(conf / "empty")
    assert postconf(conf / "empty", "-X", "relayhost") == (
        1, "", f"postconf: fatal: open {conf}/empty/main.cf for reading: No such file or directory\n")
    assert os.listdir(conf / "empty") == []


def test_edit_file_replaces_with_mode_0644_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "main.cf"
    path.write_text("a = 1\n")
    path.chmod(0o600)
    edit_file(str(path), lambda text: text + "b = 2\n")
    assert path.read_text() == "a = 1\nb = 2\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == ["main.cf"]


def test_edit_file_leaves_the_file_when_the_edit_fails(tmp_path):
    path = tmp_path / "main.cf"
    path.write_text("a = 1\n")
    (tmp_path / "main.cf.tmp").write_text("litter from a crashed edit\n")

    def refuse(text):
        raise EditFileError("no")

    with pytest.raises(EditFileError):
        edit_file(str(path), refuse)
    assert path.read_text() == "a = 1\n"
    assert os.listdir(tmp_path) == ["main.cf"]


def test_a_plugin_in_the_plugin_directory_declares_its_parameters_to_postconf(conf):
    (conf / "plugins").mkdir()
    (conf / "plugins" / "tagger.py").write_text(
        "from filterd import hookimpl\n\n\n@hookimpl\ndef parameters():\n    return {'tagger_text': 'hi'}\n")
    (conf / "main.cf").write_text("filterd_plugins = tagger\n")
    assert postconf(conf, "tagger_text", "config_directory") == (
        0, f"tagger_text = hi\nconfig_directory = {conf}\n", "")
