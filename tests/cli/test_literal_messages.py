"""Messages are printed as written: rich markup (`[red]`) and emoji codes (`:bomb:`) in a
key or value reach the terminal literally, from `estate synth` and `estate check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app
from tests.conftest import ROOT, STACKS

#: Where the odd keys go -> the stack file's extra lines and what must print literally.
CASES = {
    "top-level": (
        '  "blue-harvest:[red]x[/red]": 1\n  "blue-harvest::bomb:": 2\n',
        ("blue-harvest:[red]x[/red]", "blue-harvest::bomb:"),
    ),
    "nested": (
        '  blue-harvest:logs:\n    ":bomb:": 1\n    "[red]stop[/red]": 2\n    "[bold]": 3\n',
        ("blue-harvest:logs.:bomb:", "[red]stop[/red]", "[bold]"),
    ),
}


def _stacks(tmp_path: Path, case: str) -> Path:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    text = (STACKS / "Pulumi.local.yaml").read_text() + CASES[case][0]
    (stacks / "Pulumi.local.yaml").write_text(text)
    return stacks


def _assert_literal(text: str, case: str) -> None:
    for literal in CASES[case][1]:
        assert literal in text, text
    assert "\N{BOMB}" not in text
    assert "Traceback" not in text


@pytest.mark.parametrize("case", CASES)
def test_synth_prints_keys_literally(tmp_path: Path, case: str) -> None:
    result = CliRunner().invoke(
        app, ["synth", "local", "--stacks-dir", str(_stacks(tmp_path, case)), "--out", "out"]
    )
    assert result.exit_code == 2
    _assert_literal(result.stderr, case)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("output", ["text", "markdown"])
def test_check_prints_keys_literally(tmp_path: Path, output: str, case: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.cli",
            "check",
            "local",
            "--stacks-dir",
            str(_stacks(tmp_path, case)),
            "--out",
            str(tmp_path / "out"),
            "--format",
            output,
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "1000"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    _assert_literal(done.stdout, case)


def test_the_synth_summary_prints_the_out_path_literally(tmp_path: Path) -> None:
    out = tmp_path / "[red]out:bomb:"
    result = CliRunner().invoke(
        app, ["synth", "local", "--stacks-dir", str(STACKS), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "[red]out:bomb:" in result.stdout.replace("\n", "")
    assert "\N{BOMB}" not in result.stdout
