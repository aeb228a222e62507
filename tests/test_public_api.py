"""Plugins use filterd's public API only: plugins/, policies/ and examples/ import from filterd nothing but the names
`filterd` and `filterd.testing` export, besides their own submodules; plugins/ and policies/ hold plugins only, each
an entry point.

Until it becomes an import-linter contract, the wall is read here from the source (ast): a broken one fails
naming the file, the line and the import.
"""

from __future__ import annotations

import ast
import tomllib
from importlib import import_module
from pathlib import Path
from types import FunctionType, ModuleType

import pytest

import filterd
import filterd.testing
from filterd.registry import make_manager

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = {"filterd": set(filterd.__all__), "filterd.testing": set(filterd.testing.__all__)}
PLUGIN_FOLDERS = ("plugins", "policies")


def module_name(path: Path) -> str:
    """The module a file is: plugins/ and policies/ are installed as filterd.plugins and filterd.policies; examples
    are top-level modules."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("filterd",) + parts) if parts[0] in PLUGIN_FOLDERS else parts[-1]


def own_package(path: Path) -> str | None:
    """What a file may import of its own: its plugin (a module or a package under plugins/) and the plugin's
    submodules; None for an example, which is a top-level module."""
    parts = path.relative_to(ROOT).parts
    if parts[0] not in PLUGIN_FOLDERS or parts[1] == "__init__.py":
        return None
    return f"filterd.{parts[0]}.{Path(parts[1]).stem}"


def imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[tuple[str, str | None]]:
    """(module, name) for each thing the statement imports, relative imports made absolute."""
    if isinstance(node, ast.Import):
        return [(alias.name, None) for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = ".".join(package[:len(package) - node.level + 1])
        base = f"{anchor}.{base}" if base else anchor
        if not node.module:
            return [(f"{base}.{alias.name}", None) for alias in node.names]
    return [(base, alias.name) for alias in node.names]


def refusal(target: str, name: str | None, own: str | None) -> str | None:
    """Why importing `name` from `target` breaks the wall, or None."""
    if own and (target == own or target.startswith(own + ".")):
        return None
    if target in PUBLIC:
        if name is None or name == "*" or name in PUBLIC[target]:
            return None
        return f"{name} is not a public name of {target}"
    if target == "filterd" or target.startswith("filterd."):
        return f"{target} is not filterd's public API (filterd, filterd.testing)"
    return None


def violations(path: Path, source: str | None = None) -> list[str]:
    """`FILE:LINE: import statement (why)` for each import of filterd beyond the public API."""
    tree = ast.parse(path.read_text() if source is None else source)
    module, own = module_name(path), own_package(path)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        for target, name in imported(node, module, path.name == "__init__.py"):
            why = refusal(target, name, own)
            if why:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)} ({why})")
    return found


def sources() -> list[Path]:
    return sorted(p for folder in (*PLUGIN_FOLDERS, "examples") for p in (ROOT / folder).rglob("*.py"))


def test_plugins_and_examples_import_only_the_public_api():
    assert sources(), "no plugins found"
    assert [line for path in sources() for line in violations(path)] == []


@pytest.mark.parametrize("source, expected", [
    ("from filterd.tables import open_tables\n",
     "plugins/milters.py:1: from filterd.tables import open_tables (filterd.tables is not filterd's public API "
     "(filterd, filterd.testing))"),
    ("import filterd.chain\n",
     "plugins/milters.py:1: import filterd.chain (filterd.chain is not filterd's public API "
     "(filterd, filterd.testing))"),
    ("from filterd import tables\n", "plugins/milters.py:1: from filterd import tables (tables is not a public name "
                                     "of filterd)"),
    ("from . import header_checks\n", "plugins/milters.py:1: from . import header_checks (filterd.plugins."
                                      "header_checks is not filterd's public API (filterd, filterd.testing))"),
])
def test_an_import_beyond_the_public_api_is_named_with_its_file_and_line(source, expected):
    assert violations(ROOT / "plugins/milters.py", source) == [expected]


def test_a_plugin_s_own_submodules_and_the_public_names_pass():
    source = ("from filterd import Verdict, hookimpl, milter_client\nfrom filterd.testing import run_plugin\n"
              "from .mime_state import MimeState\nfrom filterd.plugins.header_checks import body_lines\n"
              "import filterd\nimport re\n")
    assert violations(ROOT / "plugins/header_checks/content_actions.py", source) == []


def test_every_public_name_exists():
    for module, names in PUBLIC.items():
        for name in names:
            assert getattr(import_module(module), name) is not None, f"{module}.{name}"


def test_every_public_class_function_and_module_says_what_it_is():
    undocumented = [f"{module}.{name}" for module, names in PUBLIC.items() for name in sorted(names)
                    if isinstance(value := getattr(import_module(module), name), (type, FunctionType, ModuleType))
                    and not (value.__doc__ or "").strip()]
    assert undocumented == []


def entry_points() -> dict[str, str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["filterd"]


def test_plugins_and_policies_folders_hold_only_plugins_each_an_entry_point():
    folders = {f"filterd.{folder}.{p.stem}" for folder in PLUGIN_FOLDERS for p in (ROOT / folder).iterdir()
               if p.name not in ("__init__.py", "__pycache__")}
    assert set(entry_points().values()) == folders


@pytest.mark.parametrize("name, value", sorted(entry_points().items()))
def test_every_entry_point_is_a_plugin_implementing_hooks(name, value):
    pm = make_manager()
    plugin = import_module(value)
    assert [attr for attr in dir(plugin) if pm.parse_hookimpl_opts(plugin, attr)], f"{name} = {value}: no hooks"
