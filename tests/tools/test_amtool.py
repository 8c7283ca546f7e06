"""The amtool wrappers run the real amtool, report its verdict, and can fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.tools import TOOLS_DIR_ENV, ToolMissingError, amtool
from infra.tools.amtool import (
    INSTALL_HINT,
    AmtoolNotFoundError,
    amtool_path,
    amtool_version,
    check_config,
    routes_test,
)

CONFIG = """\
route:
  receiver: team
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
    - matchers: ['severity="critical"']
      receiver: team
    - matchers: ['alertname="Odd \\"quoted\\", name=x"']
      receiver: odd
receivers:
  - name: team
  - name: pager
  - name: odd
"""


@pytest.fixture(autouse=True)
def _real_amtool() -> None:
    """These tests need the real amtool: fail (never skip) with the fix when it is missing."""
    try:
        amtool_path()
    except AmtoolNotFoundError as err:
        pytest.fail(str(err))


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "alertmanager.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_check_config_accepts_a_valid_config(config_file: Path) -> None:
    result = check_config(config_file)
    assert result.ok, result.output
    assert "SUCCESS" in result.output
    assert result.command[-2:] == ("check-config", str(config_file))


def test_check_config_rejects_a_route_to_an_undefined_receiver(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("route: {receiver: nobody}\nreceivers: [{name: team}]\n", encoding="utf-8")
    result = check_config(path)
    assert not result.ok
    assert result.returncode != 0
    assert "nobody" in result.output


def test_check_config_rejects_an_unknown_field(tmp_path: Path) -> None:
    path = tmp_path / "unknown.yaml"
    path.write_text(
        "route: {receiver: team}\nreceivers: [{name: team, webhook_configs: [{uri: x}]}]\n",
        encoding="utf-8",
    )
    assert not check_config(path).ok


def test_routes_test_passes_when_the_receivers_match_in_order(config_file: Path) -> None:
    result = routes_test(config_file, {"severity": "critical"}, ["pager", "team"])
    assert result.ok, result.output
    assert result.receivers == ("pager", "team")
    assert "--verify.receivers=pager,team" in result.command


def test_routes_test_fails_on_a_wrong_expectation(config_file: Path) -> None:
    result = routes_test(config_file, {"severity": "critical"}, ["team"])
    assert not result.ok
    assert result.returncode == 1
    assert result.expected == ("team",)
    assert result.receivers == ("pager", "team")
    assert "did not match" in result.output


def test_routes_test_compares_the_order_of_the_receivers(config_file: Path) -> None:
    assert not routes_test(config_file, {"severity": "critical"}, ["team", "pager"]).ok


def test_routes_test_with_no_labels_reaches_the_root_receiver(config_file: Path) -> None:
    result = routes_test(config_file, {}, ["team"])
    assert result.ok, result.output


def test_label_values_with_quotes_commas_and_equals_are_passed_intact(config_file: Path) -> None:
    labels = {"alertname": 'Odd "quoted", name=x'}
    assert routes_test(config_file, labels, ["odd"]).ok


def test_an_empty_expectation_is_refused_since_amtool_would_not_verify(config_file: Path) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        routes_test(config_file, {"severity": "critical"}, [])
    with pytest.raises(ValueError, match="non-empty"):
        routes_test(config_file, {"severity": "critical"}, ["a,b"])


def test_an_invalid_label_name_is_refused(config_file: Path) -> None:
    with pytest.raises(ValueError, match="label name"):
        routes_test(config_file, {"bad-name": "x"}, ["team"])


def test_a_missing_config_file_fails_the_check(tmp_path: Path) -> None:
    result = routes_test(tmp_path / "absent.yaml", {}, ["team"])
    assert not result.ok
    assert "does not exist" in result.output


def test_the_version_is_read_from_amtool() -> None:
    major, minor, _ = amtool_version()
    assert (major, minor) >= (0, 28)


def test_a_missing_amtool_fails_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(amtool.AMTOOL_ENV, raising=False)
    monkeypatch.setenv(TOOLS_DIR_ENV, str(tmp_path / "no-tools"))
    monkeypatch.setenv("PATH", "")
    with pytest.raises(AmtoolNotFoundError, match="run `make tools`") as raised:
        check_config("/nonexistent.yaml")
    assert isinstance(raised.value, ToolMissingError)
    assert raised.value.how_to_install == "make tools"
    assert "make tools" in INSTALL_HINT


def test_amtool_env_pointing_nowhere_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(amtool.AMTOOL_ENV, str(tmp_path / "no-amtool"))
    with pytest.raises(AmtoolNotFoundError, match="not an executable"):
        amtool_path()
