"""Loading main.cf and its plugins: relay mode runs the restrictions even when filterd_plugins does not name them."""

from __future__ import annotations

from filterd.loading import load


def plugins(tmp_path, text: str) -> list[str]:
    (tmp_path / "main.cf").write_text(text)
    return load(str(tmp_path / "main.cf")).plugins.order


def test_a_relay_runs_the_restrictions_first(tmp_path):
    assert plugins(tmp_path, "filterd_listeners = relay:127.0.0.1:10025\nfilterd_plugins = header_checks\n") == \
        ["restrictions", "header_checks"]


def test_where_filterd_plugins_names_them_they_run_there(tmp_path):
    assert plugins(tmp_path, "filterd_listeners = relay:127.0.0.1:10025\n"
                             "filterd_plugins = header_checks, restrictions\n") == ["header_checks", "restrictions"]


def test_a_proxy_runs_them_only_when_named(tmp_path):
    assert plugins(tmp_path, "filterd_listeners = proxy:127.0.0.1:10025\nfilterd_plugins = header_checks\n") == \
        ["header_checks"]


def test_a_postfix_parameter_filterd_does_not_implement_is_ignored_with_a_warning_naming_its_line(tmp_path):
    """Debian's main.cf (biff, append_dot_mydomain, readme_directory...) loads; a name Postfix does not know
    either stays an error naming file:line."""
    import pytest

    from filterd.config import ConfigError

    (tmp_path / "main.cf").write_text("biff = no\nmyhostname = mx.example.com\nappend_dot_mydomain = no\n")
    loaded = load(str(tmp_path / "main.cf"), {"readme_directory": "no"})
    assert loaded.config.get("biff") == "no"
    assert loaded.ignored_lines() == [
        f"{tmp_path}/main.cf, line 1: biff: Postfix parameter that filterd does not implement: ignored",
        f"{tmp_path}/main.cf, line 3: append_dot_mydomain: Postfix parameter that filterd does not implement: "
        "ignored",
        "-o: readme_directory: Postfix parameter that filterd does not implement: ignored"]
    (tmp_path / "main.cf").write_text("biff = no\nbifff = no\n")
    with pytest.raises(ConfigError, match=r'main\.cf:2: unknown parameter "bifff" \(did you mean "biff"\?\)'):
        load(str(tmp_path / "main.cf"))


def test_a_plugin_s_postfix_parameter_without_the_plugin_is_an_error_naming_it(tmp_path):
    """smtpd_milters without the milters plugin would let mail through unchecked: never ignored."""
    import pytest

    from filterd.config import ConfigError

    (tmp_path / "main.cf").write_text("biff = no\nsmtpd_milters = inet:127.0.0.1:8891\n")
    with pytest.raises(ConfigError, match=r'main\.cf:2: unknown parameter "smtpd_milters": it is the milters '
                                          r"plugin's: add milters to filterd_plugins"):
        load(str(tmp_path / "main.cf"))


def test_the_plugins_postfix_parameters_are_those_the_built_in_plugins_declare(tmp_path):
    from filterd.parameters import CORE_PARAMETERS
    from filterd.parameters.postfix_only import PLUGIN_PARAMETERS, postfix_defaults
    from tests.test_readme_parameters import postconf_defaults

    declared = [name for name in postconf_defaults(tmp_path)
                if name not in CORE_PARAMETERS and name in postfix_defaults()]
    assert sorted(declared) == sorted(PLUGIN_PARAMETERS)
