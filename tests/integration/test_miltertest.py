"""Debian's miltertest (the Trusted Domain Project's MTA simulator) runs Lua scripts against filterd's milter."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.harness import free_port

LUA = Path(__file__).resolve().parents[1] / "milter" / "server" / "lua"
SCRIPTS = sorted(path.name for path in LUA.glob("*.lua") if path.name != "common.lua")
PLUGINS = ("tests.fixtures.plugins.reject_subject, tests.fixtures.plugins.eom_reject, tests.fixtures.plugins.reroute, "
           "tests.fixtures.plugins.milter_edits, tests.fixtures.plugins.milter_count")


@pytest.fixture
def milter_port(filterd_factory) -> int:
    if not shutil.which("miltertest"):
        pytest.fail("not installed: miltertest; run scripts/install-test.sh (Debian package: miltertest)")
    port = free_port()
    filterd_factory({"filterd_listeners": f"milter:inet:127.0.0.1:{port}", "filterd_plugins": PLUGINS}, port=port)
    return port


def miltertest(port: int, script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["miltertest", "-D", f"port={port}", "-D", f"lua={LUA}", "-s", str(script)],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_every_script_is_run():
    assert SCRIPTS == ["accept.lua", "discard.lua", "edits.lua", "recipients.lua", "reject.lua", "tempfail.lua"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_script(script, milter_port):
    result = miltertest(milter_port, LUA / script)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_expectation_fails(milter_port, tmp_path):
    script = tmp_path / "wrong.lua"
    script.write_text('dofile(lua .. "/common.lua")\nconn = open()\nmessage(conn, "plain")\n'
                      'expect(conn, SMFIR_REPLYCODE, "eom")\n')
    result = miltertest(milter_port, script)
    assert result.returncode != 0
    assert "FAILED: eom: reply c, expected y" in result.stdout
