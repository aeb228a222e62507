"""smtp_sasl_*'s choices with tables alone: whose credentials, which mechanism."""

from __future__ import annotations

from filterd.qmgr.sasl_client import ClientSasl


class Table:
    def __init__(self, entries: dict[str, str]):
        self.entries = entries

    def lookup(self, key: str) -> str | None:
        return self.entries.get(key)


def test_credentials_for_the_next_hop_as_written_then_the_server_s_name():
    sasl = ClientSasl((Table({"[smtp.isp.example]:587": "alice:a:b", "mx.example": "bob:pw"}),))
    assert sasl.credentials("[smtp.isp.example]:587", "smtp.isp.example") == ("alice", "a:b")
    assert sasl.credentials("example.com", "mx.example") == ("bob", "pw")
    assert sasl.credentials("example.net", "mx.example.net") is None


def test_noplaintext_keeps_plain_and_login_out_unless_tls_options_allow_them():
    sasl = ClientSasl(options=frozenset({"noplaintext", "noanonymous"}), tls_options=frozenset({"noanonymous"}))
    assert sasl.allowed(["login", "plain", "cram-md5"], tls=False) == ["cram-md5"]
    assert sasl.allowed(["login", "plain"], tls=False) == []
    assert sasl.allowed(["login", "plain"], tls=True) == ["plain", "login"]
