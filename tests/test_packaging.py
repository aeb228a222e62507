"""Every package of the source tree is in the distribution (a non-editable install would lack it otherwise)."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_filterd_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "filterd").rglob("__init__.py")}
    found |= {".".join(("filterd",) + p.parent.relative_to(ROOT).parts)
              for p in (ROOT / "plugins").rglob("__init__.py")}
    assert found - listed == set()


def test_plugins_are_mapped_to_their_folder():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"]["filterd.plugins"] == "plugins"
