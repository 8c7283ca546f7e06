"""Every stack's rendered Alertmanager config passes the real amtool, and routes as its table says.

The tables (alerts/routing/<stack>.yaml) are hand-written expectations, checked case by case
with `amtool config routes test --verify.receivers`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import EstateConfig
from infra.plan.routing import (
    ROUTING_DIR,
    RoutingCase,
    RoutingTableError,
    alertmanager_plan,
    load_routing_table,
    routing_table_path,
)
from infra.render.alertmanager import alertmanager_config, receiver_secret_files
from infra.tools.amtool import (
    AmtoolNotFoundError,
    amtool_path,
    amtool_version,
    check_config,
    routes_test,
)
from tests.conftest import STACK_NAMES, make_config, stack_config
from tests.render.test_alertmanager import CANARIES, canary_config


@pytest.fixture(autouse=True)
def _real_amtool() -> None:
    """These tests need the real amtool: fail (never skip) with the fix when it is missing."""
    try:
        amtool_path()
    except AmtoolNotFoundError as err:
        pytest.fail(str(err))


def write_config(config: EstateConfig, directory: Path) -> Path:
    """The rendered config and its secret files, as the Alertmanager pod would see them."""
    secrets = directory / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    for name, value in receiver_secret_files(alertmanager_plan(config)).items():
        (secrets / name).write_text(value.get_secret_value(), encoding="utf-8")
    doc = alertmanager_config(alertmanager_plan(config), secrets_dir=str(secrets))
    path = directory / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def stack_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {
        stack: write_config(stack_config(stack), tmp_path_factory.mktemp(f"am-{stack}"))
        for stack in STACK_NAMES
    }


def table_cases() -> list[Any]:
    return [
        pytest.param(stack, case, id=f"{stack}: {case.name}")
        for stack in STACK_NAMES
        for case in load_routing_table(routing_table_path(stack))
    ]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_repository_stack_passes_amtool_check_config(
    stack: str, stack_files: dict[str, Path]
) -> None:
    result = check_config(stack_files[stack])
    assert result.ok, result.output


@pytest.mark.parametrize(("stack", "case"), table_cases())
def test_every_routing_table_case_routes_as_written(
    stack: str, case: RoutingCase, stack_files: dict[str, Path]
) -> None:
    result = routes_test(stack_files[stack], case.labels, case.receivers)
    assert result.ok, (
        f"{stack}: {case.name}: expected {list(case.receivers)},"
        f" amtool resolved {list(result.receivers)}\n{result.output}"
    )


def test_a_wrong_expectation_fails_the_routes_test(stack_files: dict[str, Path]) -> None:
    labels = {"alertname": "HighErrorRate", "severity": "critical", "service": "backend"}
    result = routes_test(stack_files["prod"], labels, ["slack-critical"])
    assert not result.ok
    assert result.receivers == ("pagerduty", "slack-critical")


def test_expecting_dev_to_page_fails_the_routes_test(stack_files: dict[str, Path]) -> None:
    labels = {"alertname": "HighErrorRate", "severity": "critical", "service": "backend"}
    result = routes_test(stack_files["dev"], labels, ["pagerduty", "slack-critical"])
    assert not result.ok
    assert result.receivers == ("slack-critical",)


def test_every_stack_has_a_routing_table_and_every_table_a_stack() -> None:
    assert sorted(p.stem for p in ROUTING_DIR.glob("*.yaml")) == sorted(STACK_NAMES)


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_each_table_covers_every_kind_of_alert(stack: str) -> None:
    cases = load_routing_table(routing_table_path(stack))

    def has(predicate: Any) -> bool:
        return any(predicate(c.labels) for c in cases)

    for severity in ("critical", "warning", "info"):
        assert has(lambda la, s=severity: la.get("severity") == s and "service" in la), severity
    assert has(lambda la: la.get("alertname") == "Watchdog")
    assert has(lambda la: la.get("alertname") == "NoPostsCreated") or stack in ("local", "dev")
    assert has(lambda la: not la)
    assert has(lambda la: la.get("severity") not in (None, "critical", "warning", "info", "none"))


@pytest.mark.parametrize("stack", ["local", "dev"])
def test_dev_and_local_tables_route_critical_to_no_pagerduty(stack: str) -> None:
    critical = [
        c
        for c in load_routing_table(routing_table_path(stack))
        if c.labels.get("severity") == "critical"
    ]
    assert critical
    assert all("pagerduty" not in c.receivers for c in critical)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_staging_and_prod_tables_page_critical_alerts(stack: str) -> None:
    cases = load_routing_table(routing_table_path(stack))
    critical = [c for c in cases if c.labels.get("severity") == "critical"]
    paged = [c for c in critical if c.labels.get("alertname") != "Watchdog"]
    assert paged
    assert all(c.receivers[0] == "pagerduty" for c in paged)
    watchdog = [c for c in cases if c.labels.get("alertname") == "Watchdog"]
    assert watchdog
    assert all(c.receivers == ("heartbeat",) for c in watchdog)


@pytest.mark.parametrize("environment", ["local", "dev", "staging", "prod"])
def test_configs_with_every_channel_pass_amtool_and_hold_no_secret(
    environment: str, tmp_path: Path
) -> None:
    path = write_config(canary_config(environment), tmp_path)
    result = check_config(path)
    assert result.ok, result.output
    text = path.read_text(encoding="utf-8")
    assert not [c for c in CANARIES if c in text]
    critical = {"alertname": "HighErrorRate", "severity": "critical", "service": "backend"}
    paging = ["pagerduty"] if environment in ("staging", "prod") else []
    assert routes_test(path, critical, [*paging, "slack-critical"]).ok
    assert routes_test(path, {"alertname": "Watchdog"}, ["heartbeat"]).ok
    for severity, also in (("warning", []), ("info", ["email-report"])):
        labels = {"alertname": "X", "severity": severity, "service": "backend"}
        assert routes_test(path, labels, [f"slack-{severity}", *also]).ok


def test_the_heartbeat_webhook_url_file_passes_the_production_amtool(tmp_path: Path) -> None:
    """webhook_configs[].url_file needs Alertmanager >= 0.28 (bookworm's 0.25 refused it);
    the suite runs the version production runs, which accepts it."""
    assert amtool_version() >= (0, 28, 0)
    path = write_config(canary_config("prod"), tmp_path)
    assert "url_file" in path.read_text(encoding="utf-8")
    result = check_config(path)
    assert result.ok, result.output


def test_a_stack_without_any_channel_is_still_a_valid_config(tmp_path: Path) -> None:
    path = write_config(make_config("local"), tmp_path)
    assert check_config(path).ok
    assert routes_test(path, {"severity": "critical"}, ["null"]).ok


def test_a_malformed_routing_table_names_the_file_and_the_case(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "- name: ok\n  labels: {}\n  receivers: [x]\n"
        "- name: no receivers\n  labels: {severity: critical}\n  receivers: []\n",
        encoding="utf-8",
    )
    with pytest.raises(RoutingTableError, match=r"bad\.yaml: case 1\.receivers"):
        load_routing_table(path)


def test_duplicate_case_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    case = "- name: same\n  labels: {}\n  receivers: [x]\n"
    path.write_text(case * 2, encoding="utf-8")
    with pytest.raises(RoutingTableError, match="duplicate case names: same"):
        load_routing_table(path)
