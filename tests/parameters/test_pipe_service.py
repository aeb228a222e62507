"""pipe: listeners and the pipe service's parameters."""

from __future__ import annotations

import pytest

from filterd.parameters import CORE_PARAMETERS, parse_listener


def test_a_pipe_listener_is_a_unix_socket_or_host_and_port():
    assert parse_listener("pipe:unix:/run/filterd/pipe") == ("pipe", "/run/filterd/pipe", 0)
    assert parse_listener("pipe:127.0.0.1:10027") == ("pipe", "127.0.0.1", 10027)


def test_a_pipe_listener_without_an_address_is_refused():
    with pytest.raises(ValueError, match='"pipe:unix:run/pipe"'):
        parse_listener("pipe:unix:run/pipe")


def test_without_filterd_pipe_service_filterd_pipe_filters_in_its_own_process():
    assert CORE_PARAMETERS["filterd_pipe_service"].default == ""
    assert CORE_PARAMETERS["filterd_pipe_service_timeout"].default == "300s"
