"""The set-up scripts: they parse, put the venv's filterd alone on PATH, and install what the README runs."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ("install.sh", "install-test.sh")
COMMAND = re.compile(r"(\./scripts/[\w.-]+|[a-z][a-z0-9.+-]*)(?= |$)")
OUTPUT = re.compile(r"[\w -]+: ")


def bash(code: str, script: str, env: dict[str, str] | None = None) -> str:
    """Source a script without running its main, run code after it, and return what it printed."""
    done = subprocess.run(["bash", "-c", f'source "$1" && {code}', "bash", str(ROOT / "scripts" / script)],
                          capture_output=True, text=True, env=env, check=True)
    return done.stdout


def readme_command_lines() -> list[str]:
    """The lines of the README's indented code blocks that are commands to paste.

    Fenced blocks (Python, TOML), blocks that show a file (first line `# /path`), `$ ` transcripts,
    output lines (`name: value`) and lines that are not program-and-arguments are left out.
    """
    lines, fenced, block = [], False, []
    for line in (ROOT / "README.md").read_text().splitlines() + [""]:
        if line.startswith("```"):
            fenced = not fenced
        elif line.startswith("    ") and not fenced:
            block.append(line[4:])
            continue
        if block and not block[0].startswith("# "):
            lines += [text for text in block if COMMAND.match(text) and not OUTPUT.match(text)]
        block = []
    return lines


def readme_programs() -> set[str]:
    """Every program the README's command lines run, pipelines included."""
    stages = [stage.strip() for line in readme_command_lines() for stage in line.split("|")]
    return {COMMAND.match(stage).group(1) for stage in stages}


def debian_package(program: str) -> str:
    """The Debian package that ships this program on this machine (a merged /usr is looked up both ways)."""
    found = subprocess.run(["bash", "-c", 'type -P "$1"', "bash", program], capture_output=True, text=True)
    path = found.stdout.strip()
    assert path, f"{program}: not installed here"
    for candidate in (path, str(Path(path).resolve()), path.removeprefix("/usr")):
        owner = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
        if owner.returncode == 0:
            return owner.stdout.split(":")[0]
    raise AssertionError(f"{program} ({path}) comes from no Debian package")


def is_essential(package: str) -> bool:
    """Whether Debian installs this package on every system (Essential: yes)."""
    done = subprocess.run(["dpkg-query", "-W", "-f=${Essential}", package], capture_output=True, text=True)
    return done.stdout == "yes"


@pytest.mark.parametrize("path", ["scripts/install.sh", "scripts/install-test.sh", "scripts/install-steps.sh",
                                  ".ci/run"])
def test_script_is_valid_bash(path):
    assert subprocess.run(["bash", "-n", str(ROOT / path)], capture_output=True).returncode == 0


def test_readme_command_lines_are_found():
    lines = readme_command_lines()
    assert "./scripts/install.sh" in lines
    assert "swaks --server 127.0.0.1:10025 --to someone@localhost" in lines
    assert [line for line in lines if line.startswith("filterd postqueue -p ")]
    assert not [line for line in lines if line.startswith(("smtp ", "pymilter ", "filterd_plugins", "filterd:"))]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_readme_command_comes_from_a_package_the_script_installs(script):
    packages = set(bash('printf "%s\\n" "${PACKAGES[@]}"', script).split())
    programs = readme_programs() - {"filterd", "./scripts/install.sh", "./scripts/install-test.sh"}
    owners = {program: debian_package(program) for program in programs}
    assert {program: package for program, package in owners.items()
            if package not in packages and not is_essential(package)} == {}


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_installs_python_venv_and_links_filterd(script):
    packages = bash('printf "%s\\n" "${PACKAGES[@]}"', script).split()
    assert {"python3", "python3-venv", "python3-dev", "gcc", "ca-certificates"} <= set(packages)
    main = bash("declare -f main", script)
    assert re.findall(r"\b(?:make_venv|build_filterd_pipe|link_filterd)\b", main) == [
        "make_venv", "build_filterd_pipe", "link_filterd"]


def test_readme_scripts_are_executable():
    scripts = {"./scripts/install.sh", "./scripts/install-test.sh"}
    assert scripts <= readme_programs()
    assert [script for script in scripts if not (ROOT / script).stat().st_mode & 0o111] == []


def test_install_config_writes_main_cf_and_the_starter_tables_but_replaces_nothing(tmp_path):
    config = tmp_path / "etc" / "main.cf"
    env = {"FILTERD_CONFIG": str(config), "PATH": "/usr/bin:/bin"}
    bash("install_config", "install.sh", env)
    tables = sorted(path.name for path in (ROOT / "conf" / "header_checks").glob("*.pcre"))
    assert sorted(path.name for path in config.parent.iterdir()) == sorted(tables + ["main.cf"])
    assert config.read_text() == (ROOT / "conf" / "main.cf").read_text()
    for path in config.parent.iterdir():
        path.write_text("# the administrator's own\n")
    bash("install_config", "install.sh", env)
    assert {path.read_text() for path in config.parent.iterdir()} == {"# the administrator's own\n"}


def test_link_filterd_puts_the_venvs_filterd_and_filterd_pipe_alone_on_path(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "filterd").symlink_to(tmp_path / "an-old-venv" / "bin" / "filterd")
    env = {"FILTERD_VENV": sys.prefix, "FILTERD_BINDIR": str(bindir), "PATH": "/usr/bin:/bin"}
    bash("link_filterd && link_filterd", "install-steps.sh", env)
    assert sorted(path.name for path in bindir.iterdir()) == ["filterd", "filterd-pipe"]
    for program in ("filterd", "filterd-pipe"):
        assert (bindir / program).resolve() == (Path(sysconfig.get_path("scripts")) / program).resolve()
    done = subprocess.run(["filterd", "postconf", "-d", "queue_directory"], capture_output=True, text=True,
                          env={"PATH": f"{bindir}:/usr/bin:/bin"}, check=True)
    assert done.stdout == "queue_directory = /var/spool/filterd\n"


def test_build_filterd_pipe_compiles_the_source_that_pip_installed_into_the_venv(tmp_path):
    """A venv-like directory whose python finds this checkout's filterd; filterd-pipe lands beside it and runs."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").symlink_to(sys.executable)
    env = {"FILTERD_VENV": str(tmp_path), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    bash("build_filterd_pipe", "install-steps.sh", env)
    done = subprocess.run([str(tmp_path / "bin" / "filterd-pipe")], capture_output=True, text=True)
    assert done.returncode == 75 and done.stdout.startswith("4.3.5 filterd configuration error: usage: ")
