"""What an operator expects of any CLI: --version, -h on every command, flags that read as
flags, and `make check` beside `make synth` and `make test`."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest
from typer.testing import CliRunner

from infra.cli import app, package_version
from tests.conftest import ROOT

COMMANDS = ("synth", "check", "diff")


def _estate(*args: str) -> subprocess.CompletedProcess[str]:
    """The console script's own entry, stdout a pipe (not a terminal)."""
    return subprocess.run(
        [sys.executable, "-c", "from infra.cli import main; main()", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_is_the_package_version(flag: str) -> None:
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert package_version() == expected
    done = _estate(flag)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"estate {expected}\n"


@pytest.mark.parametrize("flag", ["-h", "--help"])
@pytest.mark.parametrize("command", [(), *((c,) for c in COMMANDS)])
def test_help_on_every_command(command: tuple[str, ...], flag: str) -> None:
    result = CliRunner().invoke(app, [*command, flag])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: "), result.output
    assert "-h, --help" in result.output


def test_the_command_list_is_not_cut() -> None:
    result = CliRunner().invoke(app, ["-h"])
    assert result.exit_code == 0
    commands = result.output.split("Commands:", 1)[1]
    assert "..." not in commands
    for command in COMMANDS:
        assert re.search(rf"^  {command} +\S", commands, re.MULTILINE), commands


@pytest.mark.parametrize("command", ["synth", "check", "diff"])
def test_boolean_options_read_as_flags(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "<bool>" not in result.output
    assert re.search(r"^  --all\s{2,}Every stack", result.output, re.MULTILINE), result.output
    # Options that take values still say so.
    assert "--format <str>" in result.output


def test_all_takes_no_value() -> None:
    """`--all dev` is the flag plus the stack argument, not --all=dev (refused: both given)."""
    result = CliRunner().invoke(app, ["synth", "--all", "dev"])
    assert result.exit_code == 2
    assert "give one stack name or --all" in result.stderr


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_make_help_lists_check() -> None:
    done = _make("help")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^  make check\s+estate check --all", done.stdout, re.MULTILINE)


def test_make_check_installs_then_runs_estate_check_all() -> None:
    """Like `make test`, `make check` depends on install and tools (so a fresh clone gets the
    locked dependencies and promtool/amtool first), then runs every validator on every stack."""
    rule = re.search(r"^check:(?P<deps>[^#\n]*)##.*\n\t(?P<recipe>.+)$", _makefile(), re.MULTILINE)
    assert rule is not None
    assert rule["deps"].split() == ["install", "tools"]
    assert rule["recipe"] == "$(BIN)/estate check --all"
    assert "check" in re.search(r"^\.PHONY:(.*)$", _makefile(), re.MULTILINE)[1].split()  # type: ignore[index]


def _makefile() -> str:
    return (ROOT / "Makefile").read_text()


def test_readme_lists_make_check() -> None:
    readme = (ROOT / "README.md").read_text()
    # The two commands first (synth, test), then make check beside them.
    block = readme[readme.index("```sh\n") :]
    assert block.splitlines()[1:3] == [
        "make synth    # synthesizes the dev stack into out/dev/ and prints a summary",
        "make test     # the whole suite: ruff, mypy --strict, pytest (real Prometheus"
        " 3.5+/Alertmanager 0.28+)",
    ]
    assert "`make check` runs every validator on every stack" in readme
