"""Typed wrappers around the real `amtool` (from `make tools`, see infra/tools).

`check_config` runs `amtool check-config FILE`; `routes_test` runs
`amtool config routes test --config.file FILE --verify.receivers=a,b label="value" ...`,
which prints the receivers an alert reaches (in routing-tree order) and exits 1 when they
differ from the expected ones. Both return a result with `ok` and the tool's output; neither
raises on a failed check, only when amtool itself cannot be found or run.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.core.labels import is_label_name
from infra.tools import INSTALL_COMMAND, ToolMissingError, checked, parse_version, tool_path

INSTALL_HINT = f"run `{INSTALL_COMMAND}` to install it"
#: Overrides the amtool of the tools folder (and of PATH).
AMTOOL_ENV = "AMTOOL"
TIMEOUT_SECONDS = 60


class AmtoolNotFoundError(ToolMissingError):
    """amtool is not installed (or AMTOOL points nowhere)."""


class AmtoolError(RuntimeError):
    """amtool ran but could not do what was asked (e.g. route an alert through a config)."""


@dataclass(frozen=True)
class AmtoolResult:
    """One amtool run: whether the check passed, and what the tool said."""

    ok: bool
    returncode: int
    stdout: str
    stderr: str
    command: tuple[str, ...]

    @property
    def output(self) -> str:
        """stdout then stderr, stripped: what to show a person when the check fails."""
        return "\n".join(part for part in (self.stdout.strip(), self.stderr.strip()) if part)


@dataclass(frozen=True)
class RoutesTestResult(AmtoolResult):
    """A `config routes test` run: the receivers expected and those amtool resolved."""

    expected: tuple[str, ...]
    receivers: tuple[str, ...]


def amtool_path() -> str:
    """The amtool to run: $AMTOOL if set, else the tools folder's, else the one on PATH; at
    least its version floor (infra.tools.VERSION_FLOORS) wherever it comes from."""
    override = os.environ.get(AMTOOL_ENV)
    if override and not (Path(override).is_file() and os.access(override, os.X_OK)):
        raise AmtoolNotFoundError(
            "amtool", detail=f"${AMTOOL_ENV}={override} is not an executable file"
        )
    try:
        return checked("amtool", override) if override else tool_path("amtool")
    except ToolMissingError as err:
        # Missing or below the version floor: the message says which, and `make tools`.
        raise AmtoolNotFoundError("amtool", message=str(err)) from err


def amtool_version() -> tuple[int, int, int]:
    """amtool's version, e.g. (0, 33, 1)."""
    result = _run(["--version"])
    try:
        return parse_version(result.output)
    except ValueError as err:
        raise AmtoolError(f"cannot read amtool's version from: {result.output!r}") from err


def check_config(path: str | Path) -> AmtoolResult:
    """`amtool check-config PATH`: does Alertmanager accept this config file?"""
    return _run(["check-config", str(path)])


def routes_test(
    config_path: str | Path,
    labels: Mapping[str, str],
    expected_receivers: Sequence[str],
) -> RoutesTestResult:
    """Route an alert with `labels` through the config's tree and compare the receivers.

    amtool compares in order: list the receivers as the routing tree reaches them.
    """
    expected = tuple(expected_receivers)
    if not expected or any(not r or "," in r for r in expected):
        # An empty --verify.receivers disables the check, so it would always pass.
        raise ValueError(f"expected receivers must be non-empty names: {expected!r}")
    args = [
        "config",
        "routes",
        "test",
        "--config.file",
        str(config_path),
        f"--verify.receivers={','.join(expected)}",
        *(_matcher(name, value) for name, value in sorted(labels.items())),
    ]
    result = _run(args)
    first = result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
    resolved = tuple(r for r in first.split(",") if r)
    return RoutesTestResult(
        ok=result.ok,
        returncode=result.returncode,
        stdout=result.stdout,
        stderr=result.stderr,
        command=result.command,
        expected=expected,
        receivers=resolved,
    )


def route_receivers(config_path: str | Path, labels: Mapping[str, str]) -> tuple[str, ...]:
    """The receivers an alert with `labels` reaches, in routing order (what amtool prints)."""
    args = [
        "config",
        "routes",
        "test",
        "--config.file",
        str(config_path),
        *(_matcher(name, value) for name, value in sorted(labels.items())),
    ]
    result = _run(args)
    if not result.ok:
        raise AmtoolError(f"amtool could not route {dict(labels)}: {result.output}")
    first = result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
    return tuple(r for r in first.split(",") if r)


def _matcher(name: str, value: str) -> str:
    if not is_label_name(name):
        raise ValueError(f"{name!r} is not a valid label name")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{name}="{escaped}"'


def _run(args: list[str]) -> AmtoolResult:
    command = (amtool_path(), *args)
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError as err:
        raise AmtoolNotFoundError("amtool", detail=f"cannot run {command[0]}: {err}") from err
    return AmtoolResult(
        ok=done.returncode == 0,
        returncode=done.returncode,
        stdout=done.stdout,
        stderr=done.stderr,
        command=command,
    )
