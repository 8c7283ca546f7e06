"""Run the real `promtool` (Debian's prometheus package) on rule files and rule tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: Environment variable that points at a promtool binary other than the one on PATH.
PROMTOOL_ENV = "PROMTOOL"


class PromtoolNotFoundError(RuntimeError):
    """promtool is not installed; the message says how to install it."""


@dataclass(frozen=True)
class PromtoolResult:
    """What one promtool run said: its command line, exit code and combined output."""

    args: tuple[str, ...]
    exit_code: int
    output: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def __str__(self) -> str:
        return f"$ {' '.join(self.args)}\n(exit {self.exit_code})\n{self.output}"


def promtool_path() -> str:
    """The promtool binary: $PROMTOOL if set, else the one on PATH."""
    configured = os.environ.get(PROMTOOL_ENV)
    found = configured or shutil.which("promtool")
    if not found or not Path(found).is_file():
        where = f"${PROMTOOL_ENV}={configured}" if configured else "on PATH"
        raise PromtoolNotFoundError(
            f"promtool not found ({where}): install Debian's prometheus package (make test does)"
        )
    return found


def _run(args: Sequence[str], *, cwd: Path | None = None, timeout: float = 120) -> PromtoolResult:
    command = (promtool_path(), *args)
    completed = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return PromtoolResult(
        args=command,
        exit_code=completed.returncode,
        output=(completed.stdout + completed.stderr).strip(),
    )


def check_rules(paths: Sequence[Path | str]) -> PromtoolResult:
    """`promtool check rules <paths>`: syntax, PromQL, templates, duplicate rules."""
    if not paths:
        raise ValueError("check_rules needs at least one rule file")
    return _run(["check", "rules", *(str(p) for p in paths)])


def test_rules(paths: Sequence[Path | str]) -> PromtoolResult:
    """`promtool test rules <paths>`: run unit-test files (their rule_files are relative to
    each test file's own directory)."""
    if not paths:
        raise ValueError("test_rules needs at least one test file")
    return _run(["test", "rules", *(str(p) for p in paths)])


#: Not a pytest test, whatever its name says, wherever it is imported.
test_rules.__test__ = False  # type: ignore[attr-defined]
