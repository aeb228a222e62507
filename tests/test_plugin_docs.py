"""docs/plugins.md's code runs: each worked example is the file of examples/plugins/ it names (whose own tests
run it), and every other python block is executed, so a renamed or missing name breaks the suite, not a reader."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugins.md"
EXAMPLES = ROOT / "examples" / "plugins"


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number of the opening fence, code) for each ```python block."""
    blocks, lines = [], text.splitlines(keepends=True)
    start = None
    for number, line in enumerate(lines, 1):
        if start is None and line.strip() == "```python":
            start, code = number, []
        elif start is not None and line.strip() == "```":
            blocks.append((start, "".join(code)))
            start = None
        elif start is not None:
            code.append(line)
    assert start is None, f"docs/plugins.md:{start}: a python block is not closed"
    return blocks


BLOCKS = python_blocks(DOCS.read_text())


def included(code: str) -> str | None:
    """The example file a block shows (its first line `# examples/plugins/NAME.py`), or None."""
    first = code.partition("\n")[0]
    return first[2:] if first.startswith("# examples/") else None


@pytest.mark.parametrize("line, code", [b for b in BLOCKS if included(b[1])], ids=lambda v: str(v)[:40])
def test_a_worked_example_is_its_file_word_for_word(line, code):
    path = included(code)
    assert (ROOT / path).is_file(), f"docs/plugins.md:{line}: {path} does not exist"
    assert code.partition("\n")[2] == (ROOT / path).read_text(), f"docs/plugins.md:{line}: differs from {path}"


@pytest.mark.parametrize("line, code", [b for b in BLOCKS if not included(b[1])], ids=lambda v: str(v)[:40])
def test_a_code_block_runs(line, code):
    exec(compile(code, f"docs/plugins.md:{line}", "exec"), {"__name__": f"plugins_md_{line}"})


def test_every_example_plugin_is_shown_and_tested():
    plugins = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith(("test_", "conftest"))}
    shown = {Path(included(code)).name for _, code in BLOCKS if included(code)}
    assert plugins == shown
    assert {name for name in plugins if not (EXAMPLES / f"test_{name}").is_file()} == set()


def test_the_blocks_are_found():
    assert len(BLOCKS) > 10 and python_blocks("```python\nx = 1\n```\n") == [(1, "x = 1\n")]
