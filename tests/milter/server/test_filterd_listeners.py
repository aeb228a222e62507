"""filterd_listeners items for the milter front end, in Postfix's milter socket syntax."""

import os
import socket
import stat

import pytest

from filterd.assembly import Listener, bind_unix
from filterd.config import Config, ConfigError, parse_main_cf
from filterd.milter.server.settings import MilterSettings
from filterd.parameters import CORE_PARAMETERS, parse_listener, parse_milter_socket, validate_values


def config(text: str) -> Config:
    return Config(parse_main_cf(text, "main.cf"), CORE_PARAMETERS, "main.cf")


@pytest.mark.parametrize("item, parsed", [
    ("milter:inet:127.0.0.1:10030", ("milter", "127.0.0.1", 10030)),
    ("milter:inet:[::1]:10030", ("milter", "::1", 10030)),
    ("milter:inet:localhost:8891", ("milter", "localhost", 8891)),
    ("milter:unix:/run/filterd/milter", ("milter", "/run/filterd/milter", 0)),
    ("milter:local:/run/filterd/milter", ("milter", "/run/filterd/milter", 0)),
])
def test_milter_listeners(item, parsed):
    assert parse_listener(item) == parsed
    assert Listener.parse(item) == Listener(*parsed)


@pytest.mark.parametrize("item", [
    "milter:127.0.0.1:10030", "milter:inet:127.0.0.1", "milter:unix:relative/path", "milter:inet::10030",
    "milter:tcp:127.0.0.1:1", "milter:inet:127.0.0.1:0",
])
def test_bad_milter_listeners_name_the_item(item):
    with pytest.raises(ValueError, match=f'"{item}"'):
        parse_listener(item)
    with pytest.raises(ConfigError, match="filterd_listeners: bad listener"):
        validate_values(config(f"filterd_listeners = {item}\n"))


def test_a_milter_socket_alone():
    assert parse_milter_socket("inet:127.0.0.1:1") == ("127.0.0.1", 1)
    with pytest.raises(ValueError, match="expected milter:inet:HOST:PORT or milter:unix:/PATH"):
        parse_milter_socket("unix:")


def test_a_unix_listener_replaces_a_stale_socket_and_lets_everyone_connect(tmp_path):
    path = tmp_path / "milter.sock"
    for _ in range(2):
        sock = Listener.parse(f"milter:unix:{path}").bind()
        try:
            assert sock.family == socket.AF_UNIX and stat.S_ISSOCK(os.stat(path).st_mode)
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o666
        finally:
            sock.close()
    path.unlink()
    path.write_text("not a socket")
    with pytest.raises(OSError):
        bind_unix(str(path))


def test_settings_from_the_configuration():
    settings = MilterSettings.from_config(config("filterd_milter_progress_time = 2s\nheader_size_limit = 2000\n"))
    assert (settings.progress_interval, settings.header_size_limit, settings.line_length_limit) == (2.0, 2000, 2048)
    assert MilterSettings.from_config(config("")).progress_interval == 10.0
