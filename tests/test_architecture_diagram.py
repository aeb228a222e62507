"""docs/architecture.dot and .svg are drawn from the code by scripts/architecture-diagram.py, never by hand: the
committed drawing is what the imports give now, and an import between parts that the drawing lacks shows."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "architecture-diagram.py"


@pytest.fixture(scope="module")
def diagram():
    spec = importlib.util.spec_from_file_location("architecture_diagram", SCRIPT)
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_the_committed_drawing_is_what_the_code_gives_now():
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, ""), "run scripts/architecture-diagram.py and commit its files"


def test_an_import_between_parts_that_the_drawing_lacks_changes_it(diagram):
    edges = diagram.imports()
    assert ("milter/server/", "dns") not in edges
    drawn = diagram.dot(diagram.reduced(edges | {("milter/server/", "dns")}))
    assert '"milter/server/" -> "dns";' in drawn
    assert diagram.stale({diagram.DOT_FILE: drawn}) == [diagram.DOT_FILE]


def test_a_module_in_no_part_or_a_cycle_of_parts_stops_the_script(diagram):
    with pytest.raises(SystemExit, match="filterd.nowhere is in no part: add it to LAYERS or HELPERS"):
        diagram.part_of("filterd.nowhere")
    with pytest.raises(SystemExit, match="parts import each other in a cycle"):
        diagram.reduced({("chain", "model"), ("model", "chain")})
