"""Run the real `promtool` (from `make tools`, see infra/tools) on rule files and rule tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.tools import ToolMissingError, checked, tool_path

#: Environment variable that points at a promtool binary other than the tools folder's.
PROMTOOL_ENV = "PROMTOOL"


class PromtoolNotFoundError(ToolMissingError):
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
    """The promtool binary: $PROMTOOL if set, else the tools folder's, else the one on PATH;
    at least its version floor (infra.tools.VERSION_FLOORS) wherever it comes from."""
    configured = os.environ.get(PROMTOOL_ENV)
    if configured and not Path(configured).is_file():
        raise PromtoolNotFoundError("promtool", detail=f"${PROMTOOL_ENV}={configured}")
    try:
        return checked("promtool", configured) if configured else tool_path("promtool")
    except ToolMissingError as err:
        # Missing or below the version floor: the message says which, and `make tools`.
        raise PromtoolNotFoundError("promtool", message=str(err)) from err


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


def check_config(path: Path | str) -> PromtoolResult:
    """`promtool check config --syntax-only <path>`: a Prometheus configuration as the server
    would load it (remote_write with SigV4, relabelling regexes, external labels), without
    reading the files it names."""
    return _run(["check", "config", "--syntax-only", str(path)])


def test_rules(paths: Sequence[Path | str]) -> PromtoolResult:
    """`promtool test rules <paths>`: run unit-test files (their rule_files are relative to
    each test file's own directory)."""
    if not paths:
        raise ValueError("test_rules needs at least one test file")
    # A month of series for an SLO takes promtool half a CPU-minute; on a loaded machine
    # (estate check beside other work, the test suite's workers) several times that.
    return _run(["test", "rules", *(str(p) for p in paths)], timeout=600)


#: Not a pytest test, whatever its name says, wherever it is imported.
test_rules.__test__ = False  # type: ignore[attr-defined]
