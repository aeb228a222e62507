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
