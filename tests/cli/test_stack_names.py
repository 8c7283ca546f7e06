"""Acceptance: stack files whose names are not stack names, in a scratch folder with a
sentinel beside it, through the real `estate` CLI: a clear refusal, exit 2, nothing touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, STACKS

COMMANDS = ("synth", "check")


def _scratch(tmp_path: Path, name: str, text: str) -> Path:
    """tmp/work/{stacks/<name>, sentinel} and tmp/sentinel: the layout where `out/..` is
    the working folder and `out/../..` holds another sentinel."""
    work = tmp_path / "work"
    (work / "stacks").mkdir(parents=True)
    (work / "stacks" / name).write_text(text)
    (work / "sentinel").write_text("work")
    (tmp_path / "sentinel").write_text("outside")
    return work


def _snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


def _estate(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.cli", *args],
        cwd=work,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "300"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("file_name", "shown"),
    [("Pulumi....yaml", "stack name '..'"), ("Pulumi..yaml", "stack name '' (empty)")],
)
def test_a_file_naming_no_stack_is_refused_and_nothing_is_touched(
    tmp_path: Path, command: str, file_name: str, shown: str
) -> None:
    work = _scratch(tmp_path, file_name, (STACKS / "Pulumi.local.yaml").read_text())
    before = _snapshot(tmp_path)
    done = _estate(work, command, "--all", "--stacks-dir", "stacks", "--out", "out")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"stacks/{file_name}: (file name): {shown} is not allowed" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert _snapshot(tmp_path) == before  # sentinels intact, not even out/ created


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("stack", ["..", ".", "../work", "a/b", ""])
def test_a_bad_stack_argument_is_refused_before_any_file_is_touched(
    tmp_path: Path, command: str, stack: str
) -> None:
    work = _scratch(tmp_path, "Pulumi.local.yaml", (STACKS / "Pulumi.local.yaml").read_text())
    before = _snapshot(tmp_path)
    done = _estate(work, command, stack, "--stacks-dir", "stacks", "--out", "out")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is not allowed: must be 1 to 100 letters, digits" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert _snapshot(tmp_path) == before


def test_a_dotted_stack_with_an_error_gets_its_config_error_from_synth(tmp_path: Path) -> None:
    text = (STACKS / "Pulumi.local.yaml").read_text() + "  blue-harvest:bogus: 1\n"
    work = _scratch(tmp_path, "Pulumi.prod.eu-west-1.yaml", text)
    before = _snapshot(tmp_path)
    done = _estate(work, "synth", "--all", "--stacks-dir", "stacks", "--out", "out")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "stacks/Pulumi.prod.eu-west-1.yaml: blue-harvest:bogus: unknown key" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert _snapshot(tmp_path) == before


def test_a_dotted_stack_with_an_error_gets_its_config_error_from_check(tmp_path: Path) -> None:
    """Once this recursed until RecursionError: the stack name was taken as the text between
    the first two dots of the file name (`prod`), so the refused stack was never set aside."""
    text = (STACKS / "Pulumi.local.yaml").read_text() + "  blue-harvest:bogus: 1\n"
    work = _scratch(tmp_path, "Pulumi.prod.eu-west-1.yaml", text)
    before = _snapshot(tmp_path)
    done = _estate(
        work, "check", "--all", "--stacks-dir", "stacks", "--out", "out", "--format", "json"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "RecursionError" not in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert '"location": "blue-harvest:bogus"' in done.stdout
    assert '"file": "stacks/Pulumi.prod.eu-west-1.yaml"' in done.stdout
    after = _snapshot(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith("work/out")} == before


def test_a_dotted_stack_name_synthesizes(tmp_path: Path) -> None:
    work = _scratch(
        tmp_path, "Pulumi.local.eu-west-1.yaml", (STACKS / "Pulumi.local.yaml").read_text()
    )
    done = _estate(work, "synth", "--all", "--stacks-dir", "stacks", "--out", "out")
    assert done.returncode == 0, done.stderr
    assert (work / "out" / "local.eu-west-1" / "resources.json").is_file()
    assert sorted(p.name for p in (work / "out").iterdir()) == [
        ".local.eu-west-1.lock",
        "local.eu-west-1",
    ]
