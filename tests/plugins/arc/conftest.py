"""The arc plugin's tests' keys: the list's (which seals with Mail::DKIM) and the forwarder's (filterd)."""

from __future__ import annotations

import pytest

from tests.fixtures.dkim_keys import make_key
from tests.plugins.arc.chains import LIST


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    return {"list": make_key(folder, domain=LIST, selector="arc"),
            "forwarder": make_key(folder, domain="fwd.example.com", selector="seal")}
