"""Tests mirror the source tree: a test module in tests/A/B/ tests something in filterd/A/B/ (or in plugins/A/B/ or
bench/A/B/, the other folders of code). Tests that start real servers across components live in
tests/integration/, what tests use besides tests in tests/fixtures/; the top level holds the core modules' tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
SOURCE_FOLDERS = ("filterd", "plugins", "policies", "bench")
"""Where code lives: filterd/ (the core, front ends, tools), plugins/ (installed as filterd.plugins), policies/
(installed as filterd.policies), bench/."""
OWN_FOLDERS = ("integration", "fixtures")


def has_counterpart(folder: Path) -> bool:
    """Whether tests/FOLDER mirrors a source folder: filterd/FOLDER, or FOLDER itself under plugins/ or bench/."""
    parts = folder.relative_to(TESTS).parts
    if not parts or parts[0] in OWN_FOLDERS:
        return True
    return (ROOT / "filterd").joinpath(*parts).is_dir() or (
        parts[0] in SOURCE_FOLDERS[1:] and ROOT.joinpath(*parts).is_dir())


def misplaced(test_modules: list[Path]) -> list[str]:
    """The test modules whose folder has no counterpart in the source tree."""
    return sorted(str(path.relative_to(ROOT)) for path in test_modules if not has_counterpart(path.parent))


def test_every_test_module_sits_in_a_folder_that_mirrors_the_source():
    assert misplaced(sorted(TESTS.rglob("test_*.py"))) == []


def test_a_folder_without_a_counterpart_is_reported():
    modules = [TESTS / "queue_tools" / "test_postcat.py", TESTS / "queue" / "tools" / "test_postcat.py",
               TESTS / "plugins_builtin" / "test_milters.py", TESTS / "plugins" / "test_milters.py",
               TESTS / "bench" / "test_milter.py", TESTS / "integration" / "test_relay.py",
               TESTS / "test_chain.py", TESTS / "plugins" / "nowhere" / "test_x.py"]
    assert misplaced(modules) == ["tests/plugins/nowhere/test_x.py", "tests/plugins_builtin/test_milters.py",
                                  "tests/queue_tools/test_postcat.py"]
