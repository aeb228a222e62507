"""The README's parameter tables against `filterd postconf -d` with every built-in plugin listed: no parameter
missing, none stale, every default as postconf prints it."""
from __future__ import annotations

import io
import re
from importlib.metadata import entry_points
from pathlib import Path

from filterd import __version__
from filterd.interfaces import mynetworks, own_interfaces
from filterd.parameters import _default_hostname
from filterd.postconf.command import run

README = Path(__file__).resolve().parent.parent / "README.md"
ROW = re.compile(r"^\| `([A-Za-z0-9_]+)` \| ([^|]*?) \| [^|]+ \|$")
# Defaults that depend on the machine or the release: the README says so, in Postfix's words, instead.
COMPUTED = "(see `postconf -d` output)"
COMPUTED_DEFAULTS = {"myhostname": _default_hostname(), "milter_macro_v": f"$mail_name {__version__}",
                     "mynetworks": mynetworks("host", own_interfaces(["all"], ["all"]))}


def builtin_plugins() -> list[str]:
    return sorted(ep.name for ep in entry_points(group="filterd")
                  if ep.value.startswith(("filterd.plugins.", "filterd.policies.")))


def postconf_defaults(directory: Path) -> dict[str, str]:
    (directory / "main.cf").write_text(f"filterd_plugins = {', '.join(builtin_plugins())}\n")
    out, err = io.StringIO(), io.StringIO()
    assert run(["-c", str(directory), "-d"], None, None, out, err) == 0, err.getvalue()
    return dict(line.partition(" =")[::2] for line in out.getvalue().splitlines())


def readme_defaults() -> dict[str, str]:
    """The parameter rows of the tables headed `| parameter | default | meaning |` in the Configuration section."""
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for table in section.split("| parameter | default | meaning |\n| --- | --- | --- |\n")[1:]:
        for line in table.split("\n\n", 1)[0].splitlines():
            match = ROW.match(line)
            assert match, f"README: not a parameter row: {line!r}"
            assert match.group(1) not in rows, f"README: {match.group(1)} listed twice"
            rows[match.group(1)] = match.group(2)
    return rows


def shown(cell: str) -> str:
    """A default cell as postconf -d prints the value: `value`, or empty."""
    if cell == "empty":
        return ""
    assert cell.startswith("`") and cell.endswith("`") and cell.count("`") == 2, f"README: bad default cell {cell}"
    return cell[1:-1]


def test_builtin_plugins_with_parameters_are_found():
    assert {"header_checks", "milters"} <= set(builtin_plugins())


def test_readme_lists_every_parameter_and_no_other(tmp_path):
    known, listed = postconf_defaults(tmp_path), readme_defaults()
    assert sorted(set(known) - set(listed)) == [], "missing from the README"
    assert sorted(set(listed) - set(known)) == [], "in the README, unknown to filterd"


def test_readme_defaults_are_postconf_d(tmp_path):
    known, listed = postconf_defaults(tmp_path), readme_defaults()
    for name, cell in listed.items():
        if cell == COMPUTED:
            assert name in COMPUTED_DEFAULTS, f"README: {name}'s default is not computed"
            assert known[name].strip() == COMPUTED_DEFAULTS[name], name
        else:
            assert shown(cell) == known[name].strip(), name
