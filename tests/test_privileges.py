"""mail_owner: looked up as Postfix does, refused when it is root or unknown."""

from __future__ import annotations

import pwd
import shutil
import tempfile
from pathlib import Path

import pytest

from filterd.config import Config, ConfigError, parse_main_cf
from filterd.parameters import CORE_PARAMETERS
from filterd.privileges import MailOwner


def config(text: str) -> Config:
    return Config(parse_main_cf(text, "main.cf"), CORE_PARAMETERS, "main.cf")


def test_the_default_mail_owner_is_the_filterd_system_user():
    """scripts/install-steps.sh creates it, as Debian's postfix package creates postfix."""
    owner = MailOwner.from_config(config(""))
    entry = pwd.getpwnam("filterd")
    assert owner == MailOwner("filterd", entry.pw_uid, entry.pw_gid)
    assert owner.uid != 0


@pytest.mark.parametrize(("value", "message"), [
    ("root", "main.cf:1: mail_owner: user root has privileged user ID"),
    ("nosuchuser", "main.cf:1: mail_owner: unknown user name value: nosuchuser"),
])
def test_root_and_unknown_users_are_refused_in_postfixs_words(value, message):
    with pytest.raises(ConfigError) as caught:
        MailOwner.from_config(config(f"mail_owner = {value}\n"))
    assert str(caught.value) == message


def test_mail_owner_can_search_only_directories_open_to_it():
    owner = MailOwner.from_config(config(""))
    top = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        top.chmod(0o755)
        (top / "open").mkdir(mode=0o755)
        (top / "closed").mkdir(mode=0o700)
        (top / "closed" / "inside").mkdir(mode=0o755)
        assert owner.can_search(top / "open")
        assert not owner.can_search(top / "closed" / "inside")
    finally:
        shutil.rmtree(top)
