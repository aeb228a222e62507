"""The configurations shipped for users load cleanly."""

from pathlib import Path

import pytest

from filterd import loading

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("path", ["conf/main.cf", "examples/postfix/filterd-proxy.cf"])
def test_shipped_configuration_loads(path):
    loaded = loading.load(str(ROOT / path))
    assert loaded.config.list("filterd_listeners")


def test_default_configuration_is_relay_mode_into_local_maildirs():
    config = loading.load(str(ROOT / "conf/main.cf")).config
    assert config.list("filterd_listeners") == ["relay:127.0.0.1:10025"]
    assert config.get("filterd_mailbox_base") == "/var/spool/filterd/mailboxes"
    assert "localhost" in config.list("mydestination")
