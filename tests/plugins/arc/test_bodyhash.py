"""The arc plugin's BodyHash is the dkim plugin's, code for code: each plugin carries its copy, as a plugin imports
nothing of another (tests/test_public_api.py), and tests/plugins/dkim/test_bodyhash.py tests the code of both."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def code(path: Path) -> str:
    """The module's code without its docstring, as the parser sees it."""
    module = ast.parse(path.read_text())
    return ast.dump(ast.Module(body=module.body[1:], type_ignores=[]))


def test_the_copy_is_the_dkim_plugin_s():
    assert code(ROOT / "plugins/arc/bodyhash.py") == code(ROOT / "plugins/dkim/bodyhash.py")


def test_a_change_to_one_copy_is_seen(tmp_path):
    changed = tmp_path / "bodyhash.py"
    changed.write_text((ROOT / "plugins/arc/bodyhash.py").read_text().replace("65536", "65535"))
    assert code(changed) != code(ROOT / "plugins/dkim/bodyhash.py")
