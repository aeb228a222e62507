"""Every package of the source tree is in the distribution (a non-editable install would lack it otherwise), and
so is filterd-pipe's C source, which the installer compiles from the installed package."""

import shutil
import subprocess
import sys
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


def test_setuptools_copies_filterd_pipe_s_source_into_the_package(tmp_path):
    """Built from a copy without the editable install's egg-info, whose SOURCES.txt would add the file anyway."""
    source, built = tmp_path / "source", tmp_path / "built"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("filterd", "plugins", "policies"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py", "-d",
                    str(built)], cwd=source, check=True, capture_output=True)
    assert (built / "filterd" / "pipe" / "filterd-pipe.c").read_bytes() == (
        ROOT / "filterd" / "pipe" / "filterd-pipe.c").read_bytes()
