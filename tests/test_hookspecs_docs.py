"""Every hook and every public name is documented: a docstring in filterd/hookspecs.py that says what the hook's
answers mean, a typed signature, a row in docs/plugins.md's hook table with its arguments, and each name that
`filterd` and `filterd.testing` export on docs/plugins.md."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import filterd
import filterd.testing
from filterd import hookspecs
from filterd.registry import make_manager

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugins.md"


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


@pytest.mark.parametrize("name", all_hooks())
def test_hook_has_typed_arguments_and_answer(name):
    signature = inspect.signature(getattr(hookspecs, name))
    untyped = [p.name for p in signature.parameters.values() if p.annotation is inspect.Parameter.empty]
    assert untyped == [] and signature.return_annotation is not inspect.Signature.empty, name


@pytest.mark.parametrize("name", sorted(hookspecs.CHAIN_HOOKS))
def test_chain_hook_docstring_says_what_its_answers_do(name):
    doc = inspect.getdoc(getattr(hookspecs, name))
    assert name == "disconnect" or ("None" in doc and "DUNNO" in doc), f"hookspecs.{name}: what does None mean?"


def hook_table() -> dict[str, list[str]]:
    """docs/plugins.md's hook table: hook -> its arguments."""
    text = DOCS.read_text(encoding="utf-8")
    table = text.split("| hook | stage | called | arguments |\n| --- | --- | --- | --- |\n", 1)[1].split("\n\n", 1)[0]
    rows = [line.strip("|").split("|") for line in table.splitlines()]
    return {cells[0].strip().strip("`"): [a.strip() for a in cells[3].split(",") if a.strip() != "—"]
            for cells in rows}


def test_every_hook_is_in_the_docs_hook_table_with_its_arguments():
    spec_arguments = {name: list(inspect.signature(getattr(hookspecs, name)).parameters) for name in all_hooks()}
    assert hook_table() == spec_arguments


@pytest.mark.parametrize("module", [filterd, filterd.testing], ids=lambda m: m.__name__)
def test_every_exported_name_is_on_the_plugin_author_s_page(module):
    text = DOCS.read_text(encoding="utf-8")
    missing = [name for name in module.__all__ if not re.search(rf"[`.]{re.escape(name)}[`(]", text)]
    assert missing == [], f"{module.__name__} exports names docs/plugins.md does not mention: {missing}"
