"""One lookup for the Prometheus tools: the tools folder `make tools` fills first, then PATH,
and the suite runs on the versions production runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from infra import tools
from infra.tools import (
    TOOLS_DIR_ENV,
    VERSION_FLOORS,
    ToolMissingError,
    ToolTooOldError,
    binary_version,
    describe_tools,
    parse_version,
    tool_path,
    tool_version,
)
from infra.tools.amtool import amtool_path
from infra.tools.promtool import promtool_path

NAMES = tuple(VERSION_FLOORS)


def _link_all(directory: Path, names: dict[str, str]) -> Path:
    """directory/<name> -> the real binary found for each tool, named as given."""
    directory.mkdir(parents=True, exist_ok=True)
    for link, tool in names.items():
        (directory / link).symlink_to(os.path.realpath(tool_path(tool)))
    return directory


@pytest.mark.parametrize("name", NAMES)
def test_the_suite_runs_at_least_the_floor_version(name: str) -> None:
    """Production runs Prometheus 3.x and Alertmanager 0.33: an older tool fails the suite
    (run `make tools`), never silently tests the old semantics."""
    version = tool_version(name)
    assert version >= VERSION_FLOORS[name], f"{name} {version} at {tool_path(name)}"


@pytest.mark.parametrize("name", NAMES)
def test_the_tools_folder_wins_over_path(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "tools"
    _link_all(folder / "bin", {name: name})
    elsewhere = _link_all(tmp_path / "path", {name: name})
    monkeypatch.setenv(TOOLS_DIR_ENV, str(folder))
    monkeypatch.setenv("PATH", str(elsewhere))
    assert tool_path(name) == str(folder / "bin" / name)


def test_path_is_the_fallback_and_knows_debians_alertmanager_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    on_path = _link_all(
        tmp_path / "path", {"promtool": "promtool", "prometheus-alertmanager": "alertmanager"}
    )
    monkeypatch.setenv(TOOLS_DIR_ENV, str(tmp_path / "empty"))
    monkeypatch.setenv("PATH", str(on_path))
    assert tool_path("promtool") == str(on_path / "promtool")
    assert tool_path("alertmanager") == str(on_path / "prometheus-alertmanager")
    assert binary_version(tool_path("alertmanager")) >= VERSION_FLOORS["alertmanager"]


@pytest.mark.parametrize("name", NAMES)
def test_a_missing_tool_says_make_tools(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(TOOLS_DIR_ENV, str(tmp_path / "empty"))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(ToolMissingError) as raised:
        tool_path(name)
    assert raised.value.name == name
    assert raised.value.how_to_install == "make tools"
    assert str(tmp_path / "empty" / "bin") in str(raised.value)
    assert "run `make tools`" in str(raised.value)


def test_a_non_executable_file_in_the_tools_folder_is_not_a_tool(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "promtool").write_text("not a binary", encoding="utf-8")
    monkeypatch.setenv(TOOLS_DIR_ENV, str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(ToolMissingError):
        tool_path("promtool")


def test_the_wrappers_use_the_same_lookup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = tmp_path / "tools"
    _link_all(folder / "bin", {"promtool": "promtool", "amtool": "amtool"})
    monkeypatch.delenv("PROMTOOL", raising=False)
    monkeypatch.delenv("AMTOOL", raising=False)
    monkeypatch.setenv(TOOLS_DIR_ENV, str(folder))
    assert promtool_path() == str(folder / "bin" / "promtool")
    assert amtool_path() == str(folder / "bin" / "amtool")


def test_the_default_tools_folder_is_the_repositorys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOOLS_DIR_ENV, raising=False)
    assert tools.tools_bin() == Path(__file__).resolve().parents[2] / ".tools/prometheus/bin"


def test_versions_are_read_from_what_the_tools_print() -> None:
    assert parse_version("promtool, version 3.5.3+ds1 (branch: debian/sid)") == (3, 5, 3)
    assert parse_version("amtool, version 0.33.1 (branch: HEAD, revision: x)") == (0, 33, 1)
    with pytest.raises(ValueError, match="no version"):
        parse_version("command not found")


def test_the_session_header_names_each_tool_its_version_and_path() -> None:
    lines = describe_tools()
    assert [line.split()[0] for line in lines] == list(NAMES)
    for name, line in zip(NAMES, lines, strict=True):
        version = ".".join(map(str, tool_version(name)))
        assert line == f"{name} {version} ({tool_path(name)})"


#: Debian bookworm's own promtool 2.42 and amtool 0.25, when the machine has them.
_SYSTEM_OLD = {"promtool": "/usr/bin/promtool", "amtool": "/usr/bin/amtool"}


def _old_system_tool(name: str) -> str:
    """The system's real old `name` (below its floor), or skip: only this case needs one."""
    path = _SYSTEM_OLD[name]
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} is not installed: no real old {name} to run")
    version = binary_version(path)
    if version >= VERSION_FLOORS[name]:
        pytest.skip(f"{path} is {version}, not below the floor: no real old {name} to run")
    return path


@pytest.mark.parametrize("name", ["promtool", "amtool"])
def test_a_tool_below_its_floor_counts_as_missing(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An old promtool refuses Prometheus 3 syntax, an old amtool routes differently: found on
    PATH, it is refused with its version, where it is and the fix, never run."""
    old = _old_system_tool(name)
    on_path = tmp_path / "path"
    on_path.mkdir()
    (on_path / name).symlink_to(old)
    monkeypatch.setenv(TOOLS_DIR_ENV, str(tmp_path / "empty"))
    monkeypatch.setenv("PATH", str(on_path))
    monkeypatch.delenv("PROMTOOL", raising=False)
    monkeypatch.delenv("AMTOOL", raising=False)
    found = ".".join(map(str, binary_version(old)))
    floor = ".".join(map(str, VERSION_FLOORS[name]))
    expected = (
        f"{name} too old: found {name} {found} at {on_path / name};"
        f" need >= {floor}: run `make tools`"
    )
    with pytest.raises(ToolTooOldError) as raised:
        tool_path(name)
    assert str(raised.value) == expected
    # The wrappers say the same, as the ToolMissingError every caller already handles.
    wrapper = promtool_path if name == "promtool" else amtool_path
    with pytest.raises(ToolMissingError) as wrapped:
        wrapper()
    assert str(wrapped.value) == expected
    # And so does the explicit override ($PROMTOOL, $AMTOOL) pointing at the old binary.
    monkeypatch.setenv(name.upper(), old)
    with pytest.raises(ToolMissingError, match=f"found {name} {found} at {old};"):
        wrapper()


def test_the_version_is_read_once_per_binary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    on_path = _link_all(tmp_path / "path", {"promtool": "promtool"})
    monkeypatch.setenv(TOOLS_DIR_ENV, str(tmp_path / "empty"))
    monkeypatch.setenv("PATH", str(on_path))
    path = tool_path("promtool")
    assert tools._VERSIONS[os.path.realpath(path)] == binary_version(path)


def test_the_floor_comparison_and_its_message() -> None:
    """Pure: the numbers compare as versions (0.9 < 0.28), the message names the fix."""
    assert (0, 9, 0) < VERSION_FLOORS["amtool"] <= (0, 28, 0) < (0, 33, 1)
    assert (2, 42, 0) < VERSION_FLOORS["promtool"] <= (3, 5, 3)
    err = ToolTooOldError("amtool", "/usr/bin/amtool", (0, 25, 0))
    assert isinstance(err, ToolMissingError)
    assert (err.name, err.found, err.floor) == ("amtool", (0, 25, 0), (0, 28, 0))
    assert str(err) == (
        "amtool too old: found amtool 0.25.0 at /usr/bin/amtool; need >= 0.28.0: run `make tools`"
    )


def test_a_binary_without_a_readable_version_is_not_a_tool(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Something named promtool that does not say its version (here: `true`) is not used."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "promtool").symlink_to(shutil.which("true") or "/bin/true")
    monkeypatch.setenv(TOOLS_DIR_ENV, str(tmp_path))
    with pytest.raises(ToolMissingError, match=r"cannot read the version of .*: no version in"):
        tool_path("promtool")
