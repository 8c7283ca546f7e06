"""When out/<stack> cannot be written safely, synth and check say why and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app
from tests.conftest import STACKS


@pytest.mark.parametrize("command", ["synth", "check"])
def test_an_out_that_is_a_file_is_a_message(tmp_path: Path, command: str) -> None:
    (tmp_path / "out").write_text("not a folder")
    result = CliRunner().invoke(
        app, [command, "local", "--stacks-dir", str(STACKS), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2, result.output
    assert f"estate {command}: cannot write {tmp_path / 'out'}" in result.stderr
    assert (tmp_path / "out").read_text() == "not a folder"


@pytest.mark.parametrize("command", ["synth", "check"])
def test_a_folder_estate_did_not_write_is_left_alone(tmp_path: Path, command: str) -> None:
    """`--out .` in a folder that has its own `local/`: refused, and the folder kept."""
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "notes.txt").write_text("mine")
    result = CliRunner().invoke(
        app, [command, "local", "--stacks-dir", str(STACKS), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2, result.output
    assert "holds no resources.json: it is not a tree estate synth wrote" in result.stderr
    assert [p.name for p in (tmp_path / "local").iterdir()] == ["notes.txt"]
