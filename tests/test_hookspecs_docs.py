"""Every hook is documented: a docstring in filterd/hookspecs.py and a row in README.md's hook table."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from filterd import hookspecs
from filterd.registry import make_manager

README = Path(__file__).resolve().parent.parent / "README.md"


def all_hooks() -> list[str]:
    return sorted(name for name in make_manager().hook.__dict__ if not name.startswith("_"))


def test_chain_hooks_are_all_declared_hookspecs():
    assert set(hookspecs.CHAIN_HOOKS) <= set(all_hooks())


def test_every_declared_hook_is_a_chain_or_startup_hook():
    assert set(all_hooks()) == set(hookspecs.CHAIN_HOOKS) | {"parameters", "configure", "changes"}


def test_content_hooks_are_chain_hooks():
    assert hookspecs.CONTENT_HOOKS <= set(hookspecs.CHAIN_HOOKS)


@pytest.mark.parametrize("name", all_hooks())
def test_hook_has_a_docstring(name):
    doc = inspect.getdoc(getattr(hookspecs, name))
    assert doc and len(doc) > 20, f"hookspecs.{name} has no docstring"


def test_every_chain_hook_is_in_readme_hook_table():
    assert README.exists(), "README.md with a '| hook |' table is missing"
    text = README.read_text(encoding="utf-8")
    assert "| hook |" in text
    missing = [name for name in hookspecs.CHAIN_HOOKS if f"`{name}`" not in text]
    assert missing == [], f"hooks missing from README.md's hook table: {missing}"
