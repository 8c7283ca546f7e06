"""The rendered rules under the real promtool: `check rules` for every stack, `test rules`
for the unit-test files under alerts/tests/, and the wrapper's own behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts import ALERT_NAMES, WATCHDOG, rule_groups
from infra.render.prometheus import prometheus_rule, to_yaml
from infra.rules import iter_alerts
from infra.tools import TOOLS_DIR_ENV, ToolMissingError, promtool
from tests.alerts.harness import default_groups, stage, unit_test_files, write_rules
from tests.conftest import STACKS, stack_config


def test_rules_of_every_repository_stack_pass_promtool_check(
    stack_name: str, tmp_path: Path
) -> None:
    groups = rule_groups(stack_config(stack_name), source=str(STACKS / f"Pulumi.{stack_name}.yaml"))
    result = promtool.check_rules([write_rules(groups, tmp_path)])
    assert result.ok, str(result)
    count = sum(len(g.rules) for g in groups)
    assert f"SUCCESS: {count} rules found" in result.output


def test_the_prometheus_rule_spec_is_the_checked_rule_file(tmp_path: Path) -> None:
    groups = default_groups()
    manifest = prometheus_rule(groups, name="blue-harvest", namespace="monitoring", release="r")
    path = tmp_path / "spec.yaml"
    path.write_text(to_yaml(manifest["spec"]), encoding="utf-8")
    result = promtool.check_rules([path])
    assert result.ok, str(result)


def test_promtool_unit_tests_pass_on_the_default_rules(tmp_path: Path) -> None:
    result = promtool.test_rules(stage(default_groups(), tmp_path))
    assert result.ok, str(result)
    assert result.output.count("SUCCESS") == len(unit_test_files())


def _cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in unit_test_files():
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert doc["rule_files"] == ["rules.yaml"], path
        for group in doc["tests"]:
            cases.extend(group.get("alert_rule_test", []))
    return cases


@pytest.mark.parametrize("alert", ALERT_NAMES)
def test_every_alert_has_a_firing_and_a_silent_case(alert: str) -> None:
    cases = [c for c in _cases() if c["alertname"] == alert]
    assert any(c["exp_alerts"] for c in cases), f"{alert}: no case where it fires"
    if alert != WATCHDOG:  # vector(1): silent never, by design
        assert any(not c["exp_alerts"] for c in cases), f"{alert}: no case where it is silent"


def test_every_firing_case_pins_every_label_and_annotation() -> None:
    rules = {a.name: a for a in iter_alerts(default_groups())}
    for case in _cases():
        for expected in case["exp_alerts"]:
            rule = rules[case["alertname"]]
            assert set(expected["exp_annotations"]) == set(rule.annotations), case
            assert set(rule.all_labels) <= set(expected["exp_labels"]), case


def test_every_recording_rule_has_a_promql_expression_test() -> None:
    tested: set[str] = set()
    for path in unit_test_files():
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in doc["tests"]:
            tested.update(t["expr"] for t in group.get("promql_expr_test", []))
    records = {r.record for g in default_groups() for r in g.records}
    assert records - tested == set()


def test_a_test_file_that_expects_the_wrong_thing_fails(tmp_path: Path) -> None:
    source = unit_test_files()[0]
    broken = tmp_path / "broken" / source.name
    broken.parent.mkdir()
    text = source.read_text(encoding="utf-8").replace("severity: critical", "severity: warning")
    broken.write_text(text, encoding="utf-8")
    write_rules(default_groups(), broken.parent)
    result = promtool.test_rules([broken])
    assert not result.ok
    assert "FAILED" in result.output


def test_a_missing_promtool_fails_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(promtool.PROMTOOL_ENV, str(tmp_path / "no-promtool"))
    with pytest.raises(promtool.PromtoolNotFoundError, match="make tools"):
        promtool.check_rules([tmp_path / "rules.yaml"])
    monkeypatch.delenv(promtool.PROMTOOL_ENV)
    monkeypatch.setenv(TOOLS_DIR_ENV, str(tmp_path / "no-tools"))
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ToolMissingError, match=r"promtool not found .* run `make tools`"):
        promtool.check_rules([tmp_path / "rules.yaml"])
