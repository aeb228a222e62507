"""The plugin registry: how plugins are found (entry points, dotted names) and checked (misspelt hooks), and
why a plugin's state belongs to its chain: a class is instantiated once per chain, a module's configuration comes
back to its hooks as `settings`, so two chains in one process (tests, a reload) never share a configuration."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from filterd import Action, ParameterError, hookimpl, loading
from filterd.assembly import make_chain
from filterd.chain import Chain
from filterd.config import ConfigError
from filterd.model import Envelope, Session
from filterd.registry import PluginError, PluginNameError, Plugins
from filterd.simulate import simulate
from filterd.testing import load_plugins, make_message, run_plugin
from filterd.transaction import Transaction

COUNTER = '''\
from filterd import Verdict, hookimpl


class Counter:
    """Counts the messages of its own chain, tagging each with its own header."""

    def __init__(self):
        self.count = 0

    @hookimpl
    def parameters(self):
        return {"counter_header": "X-Count"}

    @hookimpl
    def configure(self, config):
        self.header = config.get("counter_header")

    @hookimpl
    def end_of_message(self):
        self.count += 1
        return Verdict.add_header(self.header, str(self.count))
'''


def fake_distribution(root, module: str, entry: str, body: str) -> None:
    """An installed distribution with one `filterd` entry point, ENTRY = "NAME = VALUE"."""
    dist = root / f"{module}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[filterd]\n{entry}\n")
    (root / f"{module}.py").write_text(body)


def main_cf(directory, *lines: str) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.cf").write_text("\n".join(["myhostname = mx.example.com", *lines]) + "\n")
    return str(directory)


def check(loaded: loading.Loaded, data: bytes):
    return asyncio.run(simulate(make_chain(loaded.config, loaded.plugins), data))


def instance_of(plugins: Plugins, name: str) -> object:
    return plugins.manager.get_plugin(name)


# --- finding and checking plugins ------------------------------------------------------------------------------

def test_misspelt_hook_fails_at_load_naming_the_plugin():
    class Typo:
        @hookimpl
        def end_of_mesage(self, message):
            return None

    with pytest.raises(PluginError, match="typo") as info:
        Plugins.load(["typo"], {"typo": Typo()})
    assert "end_of_mesage" in str(info.value)


def test_hook_with_an_unknown_argument_fails_at_load():
    class WrongArg:
        @hookimpl
        def header(self, hdr):
            return None

    with pytest.raises(PluginError, match="wrongarg"):
        Plugins.load(["wrongarg"], {"wrongarg": WrongArg()})


def test_plugin_without_hookimpl_marker_is_ignored():
    class Unmarked:
        def connect(self, session):
            return "REJECT"

    assert not Plugins.load(["unmarked"], {"unmarked": Unmarked()}).has("connect")


FAKE_PLUGIN = """\
from filterd import hookimpl

@hookimpl
def connect(session):
    return "REJECT 5.7.1 fake plugin says no"
"""


def test_plugin_is_found_through_the_filterd_entry_point_group(tmp_path, monkeypatch):
    fake_distribution(tmp_path, "fakeplugin_mod", "fake = fakeplugin_mod", FAKE_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = Plugins.load(["fake"])
    assert [impl.plugin for impl in plugins.impls("connect")] == ["fake"]
    verdict = asyncio.run(Chain(plugins).run("connect", Transaction(Session(), Envelope())))
    assert verdict.reply() == (550, "5.7.1", "fake plugin says no")


def test_plugin_is_found_by_dotted_module_name(tmp_path, monkeypatch):
    (tmp_path / "dotted_plugin_mod.py").write_text(FAKE_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert Plugins.load(["dotted_plugin_mod"]).has("connect")


def test_unknown_plugin_names_the_closest_installed_plugin(tmp_path, monkeypatch):
    fake_distribution(tmp_path, "fakeplugin_listed", "listed = fakeplugin_listed", FAKE_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError) as info:
        Plugins.load(["lsted"])
    assert str(info.value) == ('plugin "lsted" not found (did you mean "listed"?); '
                               "looked in the filterd entry points and sys.path")


def test_entry_point_that_fails_to_import_is_a_plugin_error(tmp_path, monkeypatch):
    fake_distribution(tmp_path, "fakeplugin_broken", "broken = fakeplugin_broken",
                      "raise ImportError('missing dependency')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match="plugin broken: cannot load entry point fakeplugin_broken"):
        Plugins.load(["broken"])


def test_plugin_module_with_a_broken_import_is_a_plugin_error(tmp_path, monkeypatch):
    (tmp_path / "plugin_with_bad_import.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match="plugin plugin_with_bad_import: import failed"):
        Plugins.load(["plugin_with_bad_import"])


# --- classes: one instance per chain ---------------------------------------------------------------------------


def test_an_entry_point_naming_a_class_makes_one_instance_per_chain(tmp_path, monkeypatch):
    fake_distribution(tmp_path, "counter_ep_mod", "counter = counter_ep_mod:Counter", COUNTER)
    monkeypatch.syspath_prepend(str(tmp_path))
    first = loading.load(main_cf(tmp_path / "a", "filterd_plugins = counter", "counter_header = X-A"))
    second = loading.load(main_cf(tmp_path / "b", "filterd_plugins = counter", "counter_header = X-B"))
    assert instance_of(first.plugins, "counter") is not instance_of(second.plugins, "counter")
    assert check(first, make_message()).header("X-A") == "1"
    assert check(second, make_message()).header("X-B") == "1"
    assert check(first, make_message()).header("X-A") == "2"


def test_a_module_colon_class_name_in_filterd_plugins_is_instantiated(tmp_path, monkeypatch):
    (tmp_path / "counter_path_mod.py").write_text(COUNTER)
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = loading.load(main_cf(tmp_path, "filterd_plugins = counter_path_mod:Counter"))
    assert type(instance_of(loaded.plugins, "counter_path_mod:Counter")).__name__ == "Counter"
    assert check(loaded, make_message()).header("X-Count") == "1"


def test_a_class_in_the_plugin_directory_is_named_file_colon_class(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "counting.py").write_text(COUNTER)
    loaded = loading.load(main_cf(tmp_path, "filterd_plugins = counting:Counter"))
    assert check(loaded, make_message()).header("X-Count") == "1"


def test_a_misspelt_class_names_the_closest_and_the_main_cf_line(tmp_path, monkeypatch):
    (tmp_path / "counter_typo_mod.py").write_text(COUNTER)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError) as info:
        loading.load(main_cf(tmp_path, "filterd_plugins = counter_typo_mod:Countr"))
    assert str(info.value) == (f'{tmp_path}/main.cf:2: filterd_plugins: plugin "counter_typo_mod:Countr" not found: '
                               'counter_typo_mod has no "Countr" (did you mean "Counter"?)')


def test_a_class_that_cannot_be_made_is_a_plugin_error():
    class NeedsArguments:
        def __init__(self, required):
            self.required = required

    with pytest.raises(PluginError, match="^plugin needy: cannot create .*NeedsArguments: .*TypeError: "):
        Plugins.load(["needy"], {"needy": NeedsArguments})


def test_one_class_under_two_names_is_refused():
    class Plain:
        pass

    with pytest.raises(PluginNameError, match='plugin "b" is plugin "a" again, under another name'):
        Plugins.load(["a", "b"], {"a": Plain, "b": Plain})


def test_testing_helpers_instantiate_a_class_for_each_run():
    class Seen:
        def __init__(self):
            self.messages = 0

        @hookimpl
        def end_of_message(self):
            self.messages += 1
            return f"WARN message {self.messages}"

    assert [run_plugin(Seen, message=make_message()).trace[-1].verdict.text for _ in range(2)] == \
           ["message 1", "message 1"]


# --- modules: configure's answer comes back as `settings` -----------------------------------------------------


class Remembers:
    """A module-like plugin whose configure answers with its setting, taken back by every hook."""

    @staticmethod
    @hookimpl
    def parameters():
        return {"remembered": "nothing"}

    @staticmethod
    @hookimpl
    def configure(config):
        return config.get("remembered")

    @staticmethod
    @hookimpl
    def changes(settings):
        return {"add_header"} if settings != "none" else set()

    @staticmethod
    @hookimpl
    def end_of_message(settings):
        return f"WARN {settings}"


def test_configure_s_answer_is_each_hook_s_settings_argument():
    first = load_plugins(Remembers, settings={"remembered": "first"})
    second = load_plugins(Remembers, settings={"remembered": "second"})
    assert [impl.settings for impl in first.impls("end_of_message")] == ["first"]
    assert [impl.settings for impl in second.impls("end_of_message")] == ["second"]
    assert first.declared == {"Remembers": frozenset({"add_header"})}
    assert load_plugins(Remembers, settings={"remembered": "none"}).declared == {"Remembers": frozenset()}


def test_a_hook_without_configure_gets_none():
    class Bare:
        @hookimpl
        def end_of_message(self, settings):
            return "WARN none" if settings is None else "WARN some"

    assert run_plugin(Bare, message=make_message()).trace[-1].verdict.text == "none"


def test_header_checks_keeps_each_chain_s_tables(tmp_path):
    (tmp_path / "a.pcre").write_text("/^Subject: one/ REJECT first chain\n")
    (tmp_path / "b.pcre").write_text("/^Subject: two/ REJECT second chain\n")
    first = loading.load(main_cf(tmp_path / "a", "filterd_plugins = header_checks",
                                 f"header_checks = pcre:{tmp_path}/a.pcre"))
    second = loading.load(main_cf(tmp_path / "b", "filterd_plugins = header_checks",
                                  f"header_checks = pcre:{tmp_path}/b.pcre"))
    one, two = make_message(subject="one"), make_message(subject="two")
    assert check(first, one).verdict.text == "first chain" and check(first, two).accepted
    assert check(second, two).verdict.text == "second chain" and check(second, one).accepted


def test_milters_keeps_each_chain_s_milters(tmp_path):
    unreachable = "smtpd_milters = inet:127.0.0.1:1"
    refusing = loading.load(main_cf(tmp_path / "a", "filterd_plugins = milters", unreachable,
                                    "milter_default_action = reject"))
    accepting = loading.load(main_cf(tmp_path / "b", "filterd_plugins = milters", unreachable,
                                     "milter_default_action = accept"))
    assert check(refusing, make_message()).action is Action.REJECT
    assert check(accepting, make_message()).accepted
    assert check(refusing, make_message()).action is Action.REJECT


# --- ParameterError: a plugin refuses a value at its main.cf line ----------------------------------------------

REFUSING = '''\
from filterd import ParameterError, hookimpl


@hookimpl
def parameters():
    return {"greeting_limit": "10"}


@hookimpl
def configure(config):
    if config.int("greeting_limit") > 100:
        raise ParameterError("greeting_limit", "must be at most 100")
'''


def test_a_parameter_error_is_a_config_error_at_the_parameter_s_line():
    class Refuses:
        @hookimpl
        def parameters(self):
            return {"greeting_limit": "10"}

        @hookimpl
        def configure(self, config):
            raise ParameterError("greeting_limit", "must be at most 100")

    with pytest.raises(ConfigError) as info:
        load_plugins(Refuses, settings={"greeting_limit": "500"})
    assert str(info.value) == "<test>:1: greeting_limit: must be at most 100"


def test_a_parameter_error_in_changes_names_the_line_too():
    class Refuses:
        @hookimpl
        def parameters(self):
            return {"tag_action": "add_header"}

        @hookimpl
        def changes(self):
            raise ParameterError("tag_action", "unknown action")

    with pytest.raises(ConfigError, match=r"^<test>: tag_action \(default\): unknown action$"):
        load_plugins(Refuses)


def test_filterd_check_reports_a_refused_value_at_its_main_cf_line(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "greeter.py").write_text(REFUSING)
    conf = main_cf(tmp_path, "# greeter's limit", "filterd_plugins = greeter", "greeting_limit = 500")
    (tmp_path / "message.eml").write_bytes(make_message())
    done = subprocess.run([sys.executable, "-m", "filterd", "-c", conf, "check", str(tmp_path / "message.eml")],
                          capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"filterd: fatal: {tmp_path}/main.cf:4: greeting_limit: must be at most 100\n"
