"""Typed wrappers around the real Prometheus tools, and the one place that finds them.

`make tools` (scripts/install-prometheus.sh) installs prometheus, promtool, alertmanager and
amtool at the versions production runs into the project's tools folder, `.tools/prometheus`
(or `$ESTATE_TOOLS_DIR`), binaries in its `bin/`. `tool_path` looks there first and only then
on PATH, so the project never runs an older system copy (Debian bookworm's promtool 2.42, say)
while the tools folder has the production versions; and a tool below its version floor
(VERSION_FLOORS), wherever it is found, counts as missing: ToolTooOldError says which version
was found where, and `make tools`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

#: Points at a tools folder other than the repository's `.tools/prometheus`.
TOOLS_DIR_ENV = "ESTATE_TOOLS_DIR"
#: How to install the tools; part of every "not found" message.
INSTALL_COMMAND = "make tools"
#: The repository root (infra/tools/__init__.py is two levels below it).
REPO_ROOT = Path(__file__).resolve().parents[2]

#: Lowest versions the tests accept: 3.5 is the LTS line with Prometheus 3's semantics
#: (left-open range selectors) that production's 3.13 has; Alertmanager 0.28 and later have
#: webhook_configs[].url_file, which bookworm's 0.25 lacks.
VERSION_FLOORS: dict[str, tuple[int, int, int]] = {
    "prometheus": (3, 5, 0),
    "promtool": (3, 5, 0),
    "alertmanager": (0, 28, 0),
    "amtool": (0, 28, 0),
}

#: Other names a tool has on PATH (Debian names the Alertmanager binary after its package).
_PATH_ALIASES: dict[str, tuple[str, ...]] = {
    "alertmanager": ("alertmanager", "prometheus-alertmanager"),
}
_VERSION = re.compile(r"version (\d+)\.(\d+)\.(\d+)")


class ToolMissingError(RuntimeError):
    """A Prometheus tool is in neither the tools folder nor on PATH (or is too old to use)."""

    def __init__(
        self,
        name: str,
        how_to_install: str = INSTALL_COMMAND,
        *,
        detail: str | None = None,
        message: str | None = None,
    ) -> None:
        self.name = name
        self.how_to_install = how_to_install
        where = detail or f"not in {tools_bin()} nor on PATH"
        super().__init__(
            message or f"{name} not found ({where}): run `{how_to_install}` to install it"
        )


class ToolTooOldError(ToolMissingError):
    """The tool found is below its version floor: as good as missing (an old promtool refuses
    Prometheus 3 syntax, an old amtool routes differently), so the fix is the same."""

    def __init__(self, name: str, path: str, found: tuple[int, int, int]) -> None:
        self.path = path
        self.found = found
        self.floor = VERSION_FLOORS[name]
        super().__init__(
            name,
            message=f"{name} too old: found {name} {_dotted(found)} at {path};"
            f" need >= {_dotted(self.floor)}: run `{INSTALL_COMMAND}`",
        )


def _dotted(version: tuple[int, int, int]) -> str:
    return ".".join(str(part) for part in version)


def tools_dir() -> Path:
    """The tools folder: $ESTATE_TOOLS_DIR, else `.tools/prometheus` in the repository."""
    configured = os.environ.get(TOOLS_DIR_ENV)
    return Path(configured) if configured else REPO_ROOT / ".tools" / "prometheus"


def tools_bin() -> Path:
    """Where `make tools` puts the binaries."""
    return tools_dir() / "bin"


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def tool_path(name: str) -> str:
    """The binary to run for `name` (prometheus, promtool, alertmanager or amtool): the tools
    folder's first, else the one on PATH; raises ToolMissingError naming `make tools` when
    there is none, or when the one found is below its version floor (ToolTooOldError)."""
    installed = tools_bin() / name
    if _executable(installed):
        return checked(name, str(installed))
    for candidate in _PATH_ALIASES.get(name, (name,)):
        found = shutil.which(candidate)
        if found is not None:
            return checked(name, found)
    raise ToolMissingError(name)


#: Versions already read, per binary (its resolved path): `--version` runs once per process.
_VERSIONS: dict[str, tuple[int, int, int]] = {}


def checked(name: str, path: str) -> str:
    """`path`, if the binary there is at least `name`'s floor (VERSION_FLOORS); else
    ToolTooOldError (or ToolMissingError when its version cannot be read)."""
    key = os.path.realpath(path)
    version = _VERSIONS.get(key)
    if version is None:
        try:
            version = binary_version(path)
        except (ValueError, OSError, subprocess.SubprocessError) as err:
            raise ToolMissingError(
                name, detail=f"cannot read the version of {path}: {err}"
            ) from None
        _VERSIONS[key] = version
    floor = VERSION_FLOORS.get(name)
    if floor is not None and version < floor:
        raise ToolTooOldError(name, path, version)
    return path


def parse_version(output: str) -> tuple[int, int, int]:
    """The X.Y.Z a Prometheus tool's `--version` prints ("promtool, version 3.5.3+ds1 ...")."""
    match = _VERSION.search(output)
    if match is None:
        raise ValueError(f"no version in {output[:200]!r}")
    major, minor, patch = (int(group) for group in match.groups())
    return major, minor, patch


def binary_version(path: str) -> tuple[int, int, int]:
    """The version of the binary at `path`, from its `--version`."""
    done = subprocess.run(
        [path, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    return parse_version(done.stdout + done.stderr)


def tool_version(name: str) -> tuple[int, int, int]:
    """The version of the `name` that `tool_path` finds."""
    return binary_version(tool_path(name))


def describe_tools() -> list[str]:
    """One line per tool: its version and path, or why it is missing (for test headers)."""
    lines: list[str] = []
    for name in VERSION_FLOORS:
        try:
            path = tool_path(name)
            version = binary_version(path)
        except (ToolMissingError, ValueError, OSError, subprocess.SubprocessError) as err:
            lines.append(f"{name}: {err}")
            continue
        lines.append(f"{name} {_dotted(version)} ({path})")
    return lines
