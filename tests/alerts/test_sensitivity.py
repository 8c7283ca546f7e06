"""The promtool tests can fail: moving any alert's threshold or `for` window, the user-traffic
floor or the probe-route exclusion, or breaking the Watchdog's expression, makes
`promtool test rules` report that alert.

Each override lands just past the test inputs (firing cases sit just above a threshold, silent
ones just below), so a test that passes whatever the rules say would show up here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from alerts import ALERT_NAMES, WATCHDOG, Settings, build, rule_groups
from infra.rules import AlertRule
from infra.tools import promtool
from tests.alerts.harness import promtool_config, stage, unit_test_files

pytestmark = pytest.mark.slow

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
    ("ServiceDown", {"threshold": 0.34}),  # one replica of three up now pages
    ("ServiceReplicaDown", {"for": "6m"}),
    ("ServiceReplicaDown", {"for": "4m"}),
    ("SignupSpike", {"threshold": 3.5}),
    ("SignupSpike", {"threshold": 2.5}),
    ("SignupSpike", {"for": "11m"}),
    ("NoPostsCreated", {"threshold": 1.5}),  # one post an hour is now too few
    ("NoPostsCreated", {"for": "61m"}),
    ("ScrapeTargetMissing", {"for": "6m"}),
    ("MetricAbsent", {"for": "11m"}),
    ("MetricAbsent", {"for": "9m"}),
    # The pipeline group (alerts/tests/pipeline.yaml).
    ("PipelineTargetDown", {"for": "11m"}),
    ("PipelineTargetDown", {"for": "9m"}),
    ("CollectorRefusingSpans", {"for": "11m"}),
    ("CollectorRefusingSpans", {"for": "9m"}),
    ("CollectorExportFailing", {"for": "11m"}),
    ("JaegerStorageFailing", {"for": "11m"}),
    ("LokiPushErrors", {"threshold": 0.07}),  # the 6% case no longer fires
    ("LokiPushErrors", {"threshold": 0.03}),  # the 4% case fires
    ("LokiPushErrors", {"for": "11m"}),
    ("LokiDiscardingLogs", {"for": "16m"}),
    ("AlloyComponentUnhealthy", {"for": "16m"}),
    ("AlloyDroppingLogs", {"for": "11m"}),
]


def _test_files(alert: str) -> list[Path]:
    """Every promtool file with a case for `alert`."""
    files = [p for p in unit_test_files() if f"alertname: {alert}\n" in p.read_text()]
    assert files, f"no promtool file tests {alert}"
    return files


def test_every_alert_but_the_watchdog_has_a_case() -> None:
    assert {alert for alert, _ in CASES} == set(ALERT_NAMES) - {WATCHDOG}


@pytest.mark.parametrize(
    ("alert", "override"), CASES, ids=[f"{a}-{'-'.join(map(str, o.items()))}" for a, o in CASES]
)
def test_an_override_makes_the_alert_tests_fail(
    alert: str, override: dict[str, Any], tmp_path: Path
) -> None:
    groups = rule_groups(promtool_config({alert: override}))
    result = promtool.test_rules(stage(groups, tmp_path, _test_files(alert)))
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
    result = promtool.test_rules(stage(groups, tmp_path, _test_files(WATCHDOG)))
    assert not result.ok
    assert f"alertname: {WATCHDOG}," in result.output, str(result)


#: Settings knobs that are not per-alert overrides, each moved just past the test inputs.
KNOBS: list[tuple[str, dict[str, Any]]] = [
    # The 0.05 req/s cases of symptoms.yaml are judged, and fire.
    ("HighErrorRate", {"min_request_rate": 0.04}),
    ("SlowResponseTime", {"min_request_rate": 0.04}),
    # The 0.25 req/s case of symptoms.yaml is no longer judged.
    ("HighErrorRate", {"min_request_rate": 0.3}),
    # Probe and scrape requests count again: 20% of user requests failing read as 4%.
    ("HighErrorRate", {"excluded_routes": ("/no-such-route",)}),
    ("SlowResponseTime", {"excluded_routes": ("/no-such-route",)}),
    # A lazily created counter counts as vanished sooner.
    ("MetricAbsent", {"absence_lookback": {"posts_created_total": "30m"}}),
]


@pytest.mark.parametrize(
    ("alert", "knob"), KNOBS, ids=[f"{a}-{'-'.join(map(str, k.items()))}" for a, k in KNOBS]
)
def test_moving_a_settings_knob_makes_the_alert_tests_fail(
    alert: str, knob: dict[str, Any], tmp_path: Path
) -> None:
    settings = dataclasses.replace(
        Settings.from_config(promtool_config(), source="alerts/testing.py"), **knob
    )
    result = promtool.test_rules(stage(build(settings), tmp_path, _test_files(alert)))
    assert not result.ok, f"promtool still passes with {knob}:\n{result}"
    assert f"alertname: {alert}," in result.output, str(result)
