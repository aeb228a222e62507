"""The walls between filterd's parts, as import contracts (.importlinter), hold: import-linter checks them, and a
broken one fails the test with its name and the imports that break it."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
"""`lint-imports` under this interpreter, so that the checker is the one installed beside filterd."""

BREAKABLE = """
[importlinter]
root_packages =
    filterd

[importlinter:contract:client-without-codec]
name = The milter client does without the milter codec
type = forbidden
source_modules =
    filterd.milter.client
forbidden_modules =
    filterd.milter.protocol
"""
"""A contract that filterd's code breaks: the milter client is built on the codec."""


def lint_imports(config: Path, tree: Path = ROOT) -> tuple[int, str, list[str]]:
    """Check the contracts of a config file on the source tree at `tree` (its packages are the ones imported from
    there): exit status, report, broken contracts."""
    command = [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo", str(config)]
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True, env={**os.environ, "COLUMNS": "300"})
    report = done.stdout + done.stderr
    broken = [m[1] for m in re.finditer(r"^(.+) BROKEN(?: \(\d+ ignored imports?\))?$", done.stdout, re.M)]
    return done.returncode, report, broken


def test_every_wall_holds():
    status, report, broken = lint_imports(ROOT / ".importlinter")
    assert (status, broken) == (0, []), report
    assert " KEPT" in report


def test_a_broken_wall_is_reported_by_its_name(tmp_path):
    config = tmp_path / "contracts.ini"
    config.write_text(BREAKABLE)
    status, report, broken = lint_imports(config)
    assert (status, broken) == (1, ["The milter client does without the milter codec"]), report
    assert "filterd.milter.client.connection -> filterd.milter.protocol" in report


CORE = "The core imports no front end, nor the tools, assembly, master or cli above them"
APART = "Front ends import the core and never each other: SMTP server, milter server, next hops, queue manager, pipe"
ASSEMBLY = "Only the assembly imports front ends: it wires them together, and master and cli drive it"
LAYERS = ("The core's transaction path is layered, each layer importing only those below: testing, simulate, "
          "lifecycle, chain, transaction, edits, model, content")
ACYCLIC = "No import cycles: the modules of each package form layers, none held together by a hidden import"
PLUGINS = "Plugins import only filterd's public names (the filterd package) and filterd.testing"

CROSSINGS = [
    ("filterd/chain.py", "from filterd.smtp.replies import format_reply", [CORE, ASSEMBLY],
     "filterd.chain -> filterd.smtp.replies"),
    ("filterd/nexthop/queue.py", "from filterd.smtp.settings import in_networks", [APART, ASSEMBLY],
     "filterd.nexthop.queue -> filterd.smtp.settings"),
    ("filterd/tables/postmap.py", "from filterd.check.replay import describe", [CORE],
     "filterd.tables.postmap -> filterd.check.replay"),
    ("filterd/master.py", "from filterd.qmgr.manager import QueueManager", [ASSEMBLY],
     "filterd.master -> filterd.qmgr.manager"),
    ("filterd/model.py", "def parser():\n    from filterd.edits import apply", [LAYERS, ACYCLIC],
     "filterd.model -> filterd.edits"),
    ("filterd/content.py", "if TYPE_CHECKING:\n    from filterd.model import Message", [LAYERS, ACYCLIC],
     "filterd.content -> filterd.model"),
    ("plugins/content_actions.py", "from filterd.verdict import Action", [PLUGINS],
     "plugins.content_actions -> filterd.verdict"),
]
"""Imports that would cross a wall again (several of them did once): where, what, walls it breaks (a crossing may
break more, through the imports it adds), the edge the report names."""


@pytest.mark.parametrize(("path", "line", "walls", "edge"), CROSSINGS, ids=[c[3] for c in CROSSINGS])
def test_a_new_import_across_a_wall_breaks_it_by_name(tmp_path, path, line, walls, edge):
    for folder in ("filterd", "plugins", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(tmp_path / path, "a") as source:
        source.write("\nfrom typing import TYPE_CHECKING\n" + line + "\n")
    status, report, broken = lint_imports(ROOT / ".importlinter", tmp_path)
    assert status == 1 and set(walls) <= set(broken), report
    assert edge in report
