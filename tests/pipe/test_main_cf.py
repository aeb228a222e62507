"""filterd_pipe_service read without the loader: the last setting, continuation lines, -o first, and None
(the loader decides) for a $name or an unreadable file."""

from __future__ import annotations

from filterd.pipe.main_cf import pipe_service


def setting(tmp_path, text: str, overrides: list[str] = ()) -> str | None:
    (tmp_path / "main.cf").write_text(text)
    return pipe_service(str(tmp_path), list(overrides))


def test_the_last_setting_wins_and_other_names_are_ignored(tmp_path):
    text = "# filterd_pipe_service = unix:/no\nfilterd_pipe_service = unix:/a\nfilterd_pipe_service = unix:/b\nx = 1\n"
    assert setting(tmp_path, text) == "unix:/b"


def test_a_continuation_line_belongs_to_its_parameter(tmp_path):
    assert setting(tmp_path, "filterd_pipe_service =\n  unix:/b\nother = a\n  b\n") == "unix:/b"


def test_none_set_is_empty(tmp_path):
    assert setting(tmp_path, "filterd_plugins = header_checks\n") == ""


def test_an_override_comes_first(tmp_path):
    assert setting(tmp_path, "filterd_pipe_service = unix:/b\n", ["filterd_pipe_service=inet:127.0.0.1:1"]) == (
        "inet:127.0.0.1:1")


def test_a_dollar_or_a_missing_file_leaves_it_to_the_loader(tmp_path):
    assert setting(tmp_path, "filterd_pipe_service = unix:$queue_directory/pipe\n") is None
    assert pipe_service(str(tmp_path / "none.cf"), []) is None


def test_filterd_config_names_main_cf_when_c_does_not(tmp_path, monkeypatch):
    (tmp_path / "other.cf").write_text("filterd_pipe_service = unix:/e\n")
    monkeypatch.setenv("FILTERD_CONFIG", str(tmp_path / "other.cf"))
    assert pipe_service(None, []) == "unix:/e"
