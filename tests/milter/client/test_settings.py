"""The milter client's settings: smtpd_milter_maps' choice of milters per client address, with tables alone."""

from __future__ import annotations

from filterd.milter.client.endpoints import MilterSpec
from filterd.milter.client.settings import ClientSettings

DEFAULT = (MilterSpec("inet:127.0.0.1:9"),)


class Table:
    def __init__(self, entries: dict[str, str]):
        self.entries = entries

    def lookup(self, key: str) -> str | None:
        return self.entries.get(key)


def settings(**entries: str) -> ClientSettings:
    return ClientSettings(DEFAULT, maps=(Table({}), Table(entries)), defaults=MilterSpec("", command_timeout=5.0))


def test_the_maps_override_smtpd_milters_per_address():
    chosen = settings(**{"192.0.2.1": "inet:127.0.0.1:10, { unix:/run/m.sock, protocol=2 }", "192.0.2.2": "Disable"})
    assert chosen.milters_for("192.0.2.9") == DEFAULT
    assert chosen.milters_for("192.0.2.2") == ()
    first, second = chosen.milters_for("192.0.2.1")
    assert (first.name, first.command_timeout) == ("inet:127.0.0.1:10", 5.0)
    assert (second.name, second.protocol) == ("unix:/run/m.sock", "2")


def test_a_result_that_is_no_milter_list_falls_back_with_a_warning(caplog):
    assert settings(**{"192.0.2.1": "{ inet:x"}).milters_for("192.0.2.1") == DEFAULT
    assert "smtpd_milter_maps: bad result for 192.0.2.1" in caplog.text
