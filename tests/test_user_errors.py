"""What a user does wrong is one line, `filterd: fatal: ...`, and exit status 1: never a traceback (unless -v)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest

from filterd.assembly import Listener
from filterd.cli import main
from filterd.fatal import FatalError
from filterd.master import bind_all
from filterd.plugin_lookup import DIRECTORY_PACKAGE
from tests.harness import HOST

MESSAGE = b"From: a@example.org\nSubject: hello\n\nbody\n"


pytestmark = pytest.mark.usefixtures("restore_filterd_logger")


@pytest.fixture(autouse=True)
def forget_directory_modules():
    yield
    for name in [n for n in sys.modules if n.partition(".")[0] == DIRECTORY_PACKAGE]:
        del sys.modules[name]


@pytest.fixture
def listening():
    """A socket listening on a 127.0.0.1 port, as another server holding it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def main_cf(directory, *lines: str):
    path = directory / "main.cf"
    path.write_text("\n".join(["myhostname = mx.example.com", *lines]) + "\n")
    return path


def plugin(directory, name: str, source: str):
    path = directory / "plugins" / f"{name}.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(source)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def check(capsys, conf, message=MESSAGE) -> tuple[int, str, str]:
    path = conf.parent / "message.eml"
    path.write_bytes(message)
    return run(capsys, "check", "-c", str(conf), str(path))


# --- a listening port already in use -----------------------------------------------------------

def test_a_port_in_use_is_postfixs_bind_error_printed_and_logged(tmp_path, listening):
    log = tmp_path / "maillog"
    main_cf(tmp_path, f"filterd_listeners = proxy:{HOST}:{listening}", f"maillog_file = {log}")
    result = subprocess.run([sys.executable, "-m", "filterd", "-c", str(tmp_path), "start-fg"],
                            capture_output=True, text=True, timeout=60)
    line = f"bind {HOST} port {listening}: Address already in use"
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"filterd: fatal: {line}\n")
    assert re.search(rf" filterd/master\[\d+\]: fatal: {line}\n\Z", log.read_text())


def test_with_v_the_traceback_comes_before_the_line(tmp_path, listening, capsys):
    main_cf(tmp_path, f"filterd_listeners = proxy:{HOST}:{listening}", f"maillog_file = {tmp_path}/maillog")
    status, _, err = run(capsys, "start-fg", "-c", str(tmp_path), "-v")
    assert status == 1
    assert err.startswith("Traceback (most recent call last):\n")
    assert err.endswith(f"filterd: fatal: bind {HOST} port {listening}: Address already in use\n")


def test_listeners_bound_before_the_one_that_fails_are_closed_again(listening):
    free = socket.create_server((HOST, 0))
    port = free.getsockname()[1]
    free.close()
    with pytest.raises(FatalError):
        bind_all([Listener("proxy", HOST, port), Listener("proxy", HOST, listening)])
    socket.create_server((HOST, port)).close()


def test_a_unix_socket_that_cannot_be_bound_is_postfixs_bind_error(tmp_path):
    path = tmp_path / "no-such-directory" / "milter.sock"
    with pytest.raises(FatalError) as info:
        Listener("milter", str(path), 0).bind()
    assert str(info.value) == f"bind: {path}: No such file or directory"


# --- files that cannot be read ------------------------------------------------------------------

def test_check_of_a_missing_message_file(tmp_path, capsys):
    conf = main_cf(tmp_path)
    status, out, err = run(capsys, "check", "-c", str(conf), "nosuch.eml")
    assert (status, out, err) == (1, "", "filterd: fatal: open nosuch.eml: No such file or directory\n")


def test_a_missing_main_cf(tmp_path, capsys):
    status, out, err = run(capsys, "check", "-c", str(tmp_path / "main.cf"), "-")
    assert (status, out, err) == (1, "", f"filterd: fatal: open {tmp_path}/main.cf: No such file or directory\n")


@pytest.mark.parametrize("table", ["regexp", "pcre", "cidr", "texthash"])
def test_a_missing_lookup_table_names_the_main_cf_line(tmp_path, capsys, table):
    conf = main_cf(tmp_path, "filterd_plugins = header_checks", f"header_checks = {table}:{tmp_path}/nosuch")
    status, out, err = check(capsys, conf)
    assert (status, out) == (1, "")
    opening = "open database" if table == "texthash" else "open"  # Postfix's words, which differ by type
    assert err == f"filterd: fatal: {conf}:3: header_checks: {opening} {tmp_path}/nosuch: No such file or directory\n"


def test_a_lookup_table_that_cannot_be_read(tmp_path, capsys):
    (tmp_path / "checks").mkdir()
    conf = main_cf(tmp_path, "filterd_plugins = header_checks", f"body_checks = pcre:{tmp_path}/checks")
    assert check(capsys, conf) == (1, "", f"filterd: fatal: {conf}:3: body_checks: open {tmp_path}/checks: "
                                          "Is a directory\n")


def test_a_missing_transport_maps_table_stops_start_up_not_the_queue_manager(tmp_path, capsys, listening):
    log = tmp_path / "maillog"
    conf = main_cf(tmp_path, f"filterd_listeners = relay:{HOST}:{listening}", f"queue_directory = {tmp_path}/q",
                   f"transport_maps = texthash:{tmp_path}/transport", f"maillog_file = {log}")
    line = f"{conf}:4: transport_maps: open database {tmp_path}/transport: No such file or directory"
    assert run(capsys, "start-fg", "-c", str(tmp_path)) == (1, "", f"filterd: fatal: {line}\n")
    assert re.search(rf" filterd/master\[\d+\]: fatal: {re.escape(line)}\n\Z", log.read_text())


def test_a_queue_directory_that_cannot_be_made(tmp_path, capsys, listening):
    (tmp_path / "file").write_text("")
    conf = main_cf(tmp_path, f"filterd_listeners = relay:{HOST}:{listening}",
                   f"queue_directory = {tmp_path}/file/q", f"maillog_file = {tmp_path}/maillog")
    assert run(capsys, "start-fg", "-c", str(tmp_path)) == (
        1, "", f"filterd: fatal: {conf}:3: queue_directory: mkdir {tmp_path}/file/q/maildrop: Not a directory\n")


def test_a_maillog_file_that_cannot_be_opened(tmp_path, capsys):
    conf = main_cf(tmp_path, f"maillog_file = {tmp_path}/no-such-directory/maillog")
    assert run(capsys, "start-fg", "-c", str(tmp_path)) == (
        1, "", f"filterd: fatal: {conf}:2: maillog_file: open {tmp_path}/no-such-directory/maillog: "
               "No such file or directory\n")


# --- plugins that are broken -------------------------------------------------------------------

def plugin_error(tmp_path, capsys, source: str, name: str = "broken") -> tuple[str, str]:
    """The one stderr line of `filterd check` with plugin `name` from the plugin directory, and its file."""
    path = plugin(tmp_path, name, source)
    status, out, err = check(capsys, main_cf(tmp_path, f"filterd_plugins = {name}"))
    assert (status, out, err.count("\n")) == (1, "", 1)
    assert "Traceback" not in err
    return err, str(path)


def test_a_plugin_with_a_syntax_error_is_file_line_column(tmp_path, capsys):
    err, path = plugin_error(tmp_path, capsys, "from filterd import hookimpl\n\ndef header(:\n    pass\n")
    assert err == f"filterd: fatal: plugin broken: import failed: {path}:3:12: invalid syntax\n"


def test_a_plugin_with_an_indentation_error(tmp_path, capsys):
    err, path = plugin_error(tmp_path, capsys, "x = 1\n  y = 2\n")
    assert err == f"filterd: fatal: plugin broken: import failed: {path}:2:2: unexpected indent\n"


def test_a_plugin_raising_at_import_names_the_raising_line(tmp_path, capsys):
    err, path = plugin_error(tmp_path, capsys, 'import os\n\nraise RuntimeError("no licence key")\n')
    assert err == f"filterd: fatal: plugin broken: import failed: {path}:3: RuntimeError: no licence key\n"


def test_a_plugin_importing_what_is_not_installed(tmp_path, capsys):
    err, path = plugin_error(tmp_path, capsys, "import no_such_dependency_xyz\n")
    assert err == (f"filterd: fatal: plugin broken: import failed: {path}:1: "
                   "ModuleNotFoundError: No module named 'no_such_dependency_xyz'\n")


def test_a_misspelt_hook_names_the_plugin_the_hook_and_the_closest_real_one(tmp_path, capsys):
    err, path = plugin_error(tmp_path, capsys, "from filterd import hookimpl\n\n\n@hookimpl\ndef end_of_mesage():\n"
                                               "    pass\n")
    assert err == f'filterd: fatal: plugin broken: {path}:4: unknown hook "end_of_mesage" ' \
                  '(did you mean "end_of_message"?)\n'


def test_a_hook_name_like_no_other_lists_the_hooks(tmp_path, capsys):
    err, path = plugin_error(tmp_path, capsys, "from filterd import hookimpl\n\n\n@hookimpl\ndef xyzzy():\n"
                                               "    pass\n")
    assert err.startswith(f'filterd: fatal: plugin broken: {path}:4: unknown hook "xyzzy" (filterd\'s hooks: body, ')


def test_a_hook_argument_that_does_not_exist(tmp_path, capsys):
    err, path = plugin_error(tmp_path, capsys, "from filterd import hookimpl\n\n\n@hookimpl\ndef header(hdr):\n"
                                               "    pass\n")
    assert err == (f'filterd: fatal: plugin broken: {path}:4: hook header has no argument "hdr" '
                   "(it takes session, envelope, message, header, settings, auth_results)\n")


CONFIGURE_RAISES = '''\
from filterd import hookimpl


@hookimpl
def parameters():
    return {"broken_limit": "10"}


@hookimpl
def configure(config):
    limit = config.int("broken_limit")
    if limit > 100:
        raise config.error("broken_limit", f"bad value {limit}: at most 100")
    {}["unset"]
'''


def test_a_plugin_raising_in_configure(tmp_path, capsys):
    err, path = plugin_error(tmp_path, capsys, CONFIGURE_RAISES)
    assert err == f"filterd: fatal: plugin broken: configure: {path}:14: KeyError: 'unset'\n"


def test_a_plugin_refusing_a_value_in_configure_names_the_main_cf_line(tmp_path, capsys):
    plugin(tmp_path, "broken", CONFIGURE_RAISES)
    conf = main_cf(tmp_path, "filterd_plugins = broken", "", "broken_limit = 1000")
    assert check(capsys, conf) == (1, "", f"filterd: fatal: {conf}:4: broken_limit: bad value 1000: at most 100\n")


def test_a_plugin_raising_in_parameters(tmp_path, capsys):
    err, path = plugin_error(tmp_path, capsys, "from filterd import hookimpl\n\n\n@hookimpl\ndef parameters():\n"
                                               "    return dict(broken_limit)\n")
    assert err == (f"filterd: fatal: plugin broken: parameters: {path}:6: "
                   "NameError: name 'broken_limit' is not defined\n")


def test_an_installed_plugin_raising_in_configure(tmp_path, capsys, monkeypatch):
    """A plugin on sys.path is reported the same way; the innermost line of the plugin's own file is named."""
    path = tmp_path / "raising_plugin_mod.py"
    path.write_text("import json\nfrom filterd import hookimpl\n\n\n@hookimpl\ndef configure():\n"
                    "    json.loads('{')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "raising_plugin_mod", raising=False)
    status, out, err = check(capsys, main_cf(tmp_path, "filterd_plugins = raising_plugin_mod"))
    assert (status, out) == (1, "")
    assert err == (f"filterd: fatal: plugin raising_plugin_mod: configure: {path}:7: json.decoder.JSONDecodeError: "
                   "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)\n")
