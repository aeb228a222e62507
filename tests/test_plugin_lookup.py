"""Plugins of one's own in the plugin directory ($config_directory/plugins), found without PYTHONPATH."""

from __future__ import annotations

import json
import sys

import pytest

from filterd import loading
from filterd.cli import main
from filterd.config import ConfigError
from filterd.parameters import CORE_PARAMETERS
from filterd.plugin_lookup import DIRECTORY_PACKAGE

TAGGER = '''\
from filterd import Verdict, hookimpl
from . import common


@hookimpl
def end_of_message(message):
    return Verdict.add_header("X-Tag", common.TAG)
'''
CONNECT = "from filterd import hookimpl\n\n\n@hookimpl\ndef connect(session):\n    return {verdict!r}\n"
MESSAGE = b"From: a@example.org\nSubject: hello\n\nbody\n"


@pytest.fixture(autouse=True)
def forget_directory_modules():
    """Each test's plugin directory is a new one: drop the package made for the last."""
    yield
    for name in [n for n in sys.modules if n.partition(".")[0] == DIRECTORY_PACKAGE]:
        del sys.modules[name]


def write(directory, name: str, text: str):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def main_cf(directory, *lines: str):
    return write(directory, "main.cf", "\n".join(["myhostname = mx.example.com", *lines]) + "\n")


def test_a_module_in_the_plugin_directory_runs_without_pythonpath(tmp_path, capsys):
    write(tmp_path, "plugins/tagger.py", TAGGER)
    write(tmp_path, "plugins/common.py", 'TAG = "local"\n')
    main_cf(tmp_path, "filterd_plugins = tagger")
    write(tmp_path, "message.eml", MESSAGE.decode())
    assert main(["check", "-c", str(tmp_path), str(tmp_path / "message.eml")]) == 0
    out = capsys.readouterr().out
    assert " ".join(out.splitlines()[0].split()) == "end_of_message tagger DUNNO; add header X-Tag: local"
    assert "\nX-Tag: local\n" in out


def test_a_package_in_the_plugin_directory_is_a_plugin(tmp_path):
    write(tmp_path, "plugins/mycompany/__init__.py", "")
    write(tmp_path, "plugins/mycompany/filters.py", CONNECT.format(verdict="REJECT 5.7.1 no"))
    write(tmp_path, "plugins/whole/__init__.py", CONNECT.format(verdict="OK"))
    main_cf(tmp_path, "filterd_plugins = whole mycompany.filters")
    loaded = loading.load(str(tmp_path))
    assert [impl.plugin for impl in loaded.plugins.impls("connect")] == ["whole", "mycompany.filters"]
    assert loaded.plugins.impls("connect")[1].function.__module__ == f"{DIRECTORY_PACKAGE}.mycompany.filters"


def test_config_directory_is_the_directory_given_with_c_as_postfix_sets_it(tmp_path):
    """As Postfix's -c: the value in force, listed by postconf -n; the default stays /etc/filterd."""
    main_cf(tmp_path)
    for given in (tmp_path, tmp_path / "main.cf"):
        config = loading.load(str(given)).config
        assert config.get("config_directory") == str(tmp_path)
        assert config.get("filterd_plugin_directory") == f"{tmp_path}/plugins"
        assert config.non_default() == {"config_directory": str(tmp_path), "myhostname": "mx.example.com"}
    assert CORE_PARAMETERS["config_directory"].default == "/etc/filterd"
    assert CORE_PARAMETERS["filterd_plugin_directory"].default == "$config_directory/plugins"


def test_config_directory_set_in_main_cf_wins_over_c(tmp_path):
    main_cf(tmp_path, f"config_directory = {tmp_path}/etc")
    config = loading.load(str(tmp_path)).config
    assert (config.get("config_directory"), config.lineno("config_directory")) == (f"{tmp_path}/etc", 2)


def test_the_plugin_directory_can_be_anywhere(tmp_path):
    write(tmp_path, "elsewhere/mine.py", CONNECT.format(verdict="OK"))
    main_cf(tmp_path / "etc", f"filterd_plugin_directory = {tmp_path}/elsewhere", "filterd_plugins = mine")
    assert loading.load(str(tmp_path / "etc")).plugins.has("connect")


def test_a_directory_module_hides_no_installed_module_of_the_same_name(tmp_path):
    """The directory wins for filterd_plugins, but `import json` elsewhere still gets the real json."""
    write(tmp_path, "plugins/json.py", CONNECT.format(verdict="REJECT local json"))
    main_cf(tmp_path, "filterd_plugins = json")
    loaded = loading.load(str(tmp_path))
    assert loaded.plugins.impls("connect")[0].function.__module__ == f"{DIRECTORY_PACKAGE}.json"
    assert sys.modules["json"] is json and json.loads("[1]") == [1]


def test_a_plugin_directory_module_named_as_an_installed_plugin_is_an_error(tmp_path):
    write(tmp_path, "plugins/header_checks.py", CONNECT.format(verdict="OK"))
    conf = main_cf(tmp_path, "", "filterd_plugins = header_checks")
    with pytest.raises(ConfigError) as info:
        loading.load(str(tmp_path))
    assert str(info.value) == (
        f'{conf}:3: filterd_plugins: plugin "header_checks" names both the installed plugin '
        f"filterd.plugins.header_checks and {tmp_path}/plugins/header_checks.py; rename the file")


def test_an_unknown_plugin_names_its_main_cf_line_the_closest_name_and_where_filterd_looked(tmp_path, capsys):
    write(tmp_path, "plugins/tagger.py", TAGGER)
    conf = main_cf(tmp_path, "# plugins", "filterd_plugins = header_checks,", "    taggr")
    assert main(["check", "-c", str(conf), "-"]) == 1
    assert capsys.readouterr().err == (
        f'filterd: fatal: {conf}:3: filterd_plugins: plugin "taggr" not found (did you mean "tagger"?); '
        f"looked in the filterd entry points, {tmp_path}/plugins and sys.path\n")


def test_an_unknown_plugin_suggests_an_installed_plugin(tmp_path, capsys):
    conf = main_cf(tmp_path, "filterd_plugins = heder_checks")
    assert main(["check", "-c", str(conf), "-"]) == 1
    assert capsys.readouterr().err == (
        f'filterd: fatal: {conf}:2: filterd_plugins: plugin "heder_checks" not found '
        f'(did you mean "header_checks"?); looked in the filterd entry points, '
        f"{tmp_path}/plugins (no such directory) and sys.path\n")


def test_a_plugin_listed_twice_names_the_main_cf_line(tmp_path):
    conf = main_cf(tmp_path, "filterd_plugins = header_checks header_checks")
    with pytest.raises(ConfigError) as info:
        loading.load(str(tmp_path))
    assert str(info.value) == f'{conf}:2: filterd_plugins: plugin "header_checks" is listed twice'


def test_one_plugin_listed_under_two_names_names_the_main_cf_line(tmp_path):
    conf = main_cf(tmp_path, "filterd_plugins = header_checks filterd.plugins.header_checks")
    with pytest.raises(ConfigError) as info:
        loading.load(str(tmp_path))
    assert str(info.value) == (f'{conf}:2: filterd_plugins: plugin "filterd.plugins.header_checks" is plugin '
                               '"header_checks" again, under another name')


def test_a_plugin_named_by_an_override_is_located_as_one(tmp_path):
    conf = main_cf(tmp_path)
    with pytest.raises(ConfigError) as info:
        loading.load(str(tmp_path), {"filterd_plugins": "nosuch"})
    assert str(info.value).startswith(f'{conf}: filterd_plugins (override): plugin "nosuch" not found;')


def test_another_plugin_directory_gets_its_own_modules(tmp_path):
    for name, verdict in (("one", "REJECT one"), ("two", "REJECT two")):
        write(tmp_path, f"{name}/plugins/same.py", CONNECT.format(verdict=verdict))
        main_cf(tmp_path / name, "filterd_plugins = same")
    first = loading.load(str(tmp_path / "one")).plugins.impls("connect")[0].function
    second = loading.load(str(tmp_path / "two")).plugins.impls("connect")[0].function
    assert (first(None), second(None)) == ("REJECT one", "REJECT two")
