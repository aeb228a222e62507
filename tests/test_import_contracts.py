"""The walls between filterd's parts, as import contracts (.importlinter), hold: import-linter checks them, and a
broken one fails the test with its name and the imports that break it."""

import os
import subprocess
import sys
from pathlib import Path

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


def lint_imports(config: Path) -> tuple[int, str, list[str]]:
    """Check the contracts of a config file from the repository root: exit status, report, broken contracts."""
    command = [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo", str(config)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "COLUMNS": "300"})
    report = done.stdout + done.stderr
    broken = [line.removesuffix(" BROKEN") for line in done.stdout.splitlines() if line.endswith(" BROKEN")]
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
