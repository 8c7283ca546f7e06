"""The promtool tests can fail: moving any alert's threshold or `for` window, or breaking the
Watchdog's expression, makes `promtool test rules` report that alert.

Each override lands just past the test inputs (firing cases sit just above a threshold, silent
ones just below), so a test that passes whatever the rules say would show up here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from alerts import ALERT_NAMES, WATCHDOG, rule_groups
from infra.spec.alerts import AlertRule, RuleGroup
from infra.tools import promtool
from tests.alerts.harness import ALERT_TESTS, promtool_config, stage

#: (alert, override): each must make the alert's promtool file fail.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("HighErrorRate", {"threshold": 0.07}),  # the 6% case no longer fires
    ("HighErrorRate", {"threshold": 0.03}),  # the 4% case fires
    ("HighErrorRate", {"for": "6m"}),
    ("SlowResponseTime", {"threshold": 2.2}),
    ("SlowResponseTime", {"threshold": 1.8}),
    ("SlowResponseTime", {"for": "11m"}),
    ("DatabasePoolExhaustion", {"threshold": 0.93}),
    ("DatabasePoolExhaustion", {"threshold": 0.87}),
    ("DatabasePoolExhaustion", {"for": "4m"}),
    ("LowCacheHitRate", {"threshold": 0.45}),
    ("LowCacheHitRate", {"threshold": 0.55}),
    ("LowCacheHitRate", {"for": "16m"}),
    ("ServiceDown", {"for": "2m"}),
    ("SignupSpike", {"threshold": 3.5}),
    ("SignupSpike", {"threshold": 2.5}),
    ("SignupSpike", {"for": "11m"}),
    ("NoPostsCreated", {"threshold": 1.5}),  # one post an hour is now too few
    ("NoPostsCreated", {"for": "61m"}),
    ("ScrapeTargetMissing", {"for": "6m"}),
]


def _group_file(groups: list[RuleGroup], alert: str) -> Path:
    group = next(g for g in groups if any(a.name == alert for a in g.alerts))
    return ALERT_TESTS / f"{group.name}.yaml"


def test_every_alert_but_the_watchdog_has_a_case() -> None:
    assert {alert for alert, _ in CASES} == set(ALERT_NAMES) - {WATCHDOG}


@pytest.mark.parametrize(
    ("alert", "override"), CASES, ids=[f"{a}-{'-'.join(map(str, o.items()))}" for a, o in CASES]
)
def test_an_override_makes_the_alert_tests_fail(
    alert: str, override: dict[str, Any], tmp_path: Path
) -> None:
    groups = rule_groups(promtool_config({alert: override}))
    result = promtool.test_rules(stage(groups, tmp_path, [_group_file(groups, alert)]))
    assert not result.ok, f"promtool still passes with {alert} {override}:\n{result}"
    assert f"alertname: {alert}," in result.output, str(result)


def test_a_silenced_watchdog_makes_the_platform_tests_fail(tmp_path: Path) -> None:
    def silence(rule: AlertRule | Any) -> Any:
        if isinstance(rule, AlertRule) and rule.name == WATCHDOG:
            return dataclasses.replace(rule, expr="vector(1) unless vector(1)")
        return rule

    groups = [
        dataclasses.replace(g, rules=tuple(silence(r) for r in g.rules))
        for g in rule_groups(promtool_config())
    ]
    result = promtool.test_rules(stage(groups, tmp_path, [_group_file(groups, WATCHDOG)]))
    assert not result.ok
    assert f"alertname: {WATCHDOG}," in result.output, str(result)
