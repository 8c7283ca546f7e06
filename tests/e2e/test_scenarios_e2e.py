"""Acceptance scenarios: how the prod estate's alerting behaves with a real cluster's traffic.

Two parts, each proving what the other cannot (docs/alerting.md has the table):

1. Hours, on promtool (the production version, >= 3.5): the prod stack's rules, as the real
   program builds them with production timing (no `for` or window shortened), evaluated over
   six simulated hours of the seed's metrics as Prometheus would scrape them from three
   replicas (tests/e2e/cluster.py: users on a daily curve with Poisson noise and background
   4xx/5xx, kubelet probes and scrapes counted by the middleware, a rolling deployment, a
   container restart). Healthy hours raise no alert but the Watchdog; each seeded fault fires
   exactly its alerts (every alert that fired in the six hours is listed, from `ALERTS`).
   This proves the rules' behaviour over time; it sends no notification.
2. Minutes, on the real servers (Prometheus >= 3.5, Alertmanager >= 0.28): see the second
   half of this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts import application, business, platform, rule_groups
from alerts.settings import Settings
from infra.spec.alerts import RuleGroup
from infra.tools import promtool
from tests.conftest import stack_config
from tests.e2e.cluster import Cluster, Fault, Pod, replicas, rolling_update

HOUR = 3600
HOURS = 6
#: The alerts these scenarios are about: the application's, the business', the platform's.
#: (The telemetry pipeline's own alerts need its components' metrics, not simulated here.)
ALERTS_IN_SCOPE = sorted(
    {a.name for g in (application.group(Settings()), business.group(Settings())) for a in g.alerts}
    | {a.name for a in platform.group(Settings()).alerts}
)
FIRED = (
    'group by (alertname, severity, metric) (count_over_time(ALERTS{alertstate="firing",'
    f'alertname=~"{"|".join(ALERTS_IN_SCOPE)}"}}[{HOURS}h]))'
)
#: The seed's HighErrorRate expression, for comparison: probes and scrapes count as traffic.
SEED_ERROR_RATIO = (
    'sum(rate(http_requests_total{status_code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'
)

Fired = tuple[str, str, str]  # alertname, severity, metric ("" but for MetricAbsent)
WATCHDOG: Fired = ("Watchdog", "info", "")


def _restart(pod: Pod, at: int, seconds: int) -> Pod:
    return Pod(pod.name, pod.instance, pod.start, pod.end, ((at, at + seconds),), pod.missing)


def _deployed(
    *, crash: tuple[int, int] | None = None, missing: frozenset[str] = frozenset()
) -> tuple[Pod, ...]:
    """Three replicas, replaced by a rolling deployment at 2h; optionally the first new pod's
    container crashes (`crash` = (at, seconds)) and the new release lacks `missing` metrics."""
    pods = list(rolling_update(replicas(3), 2 * HOUR, prefix="backend-5c6b", missing=missing))
    if crash is not None:
        pods[1] = _restart(pods[1], *crash)
    return tuple(pods)


@dataclass(frozen=True)
class LongScenario:
    name: str
    cluster: Callable[[], Cluster]
    #: Alerts expected to have fired during the hours, besides the Watchdog.
    fired: tuple[Fired, ...]
    #: Extra promtool expression tests: (expr, evaluation time, expected value).
    checks: tuple[tuple[str, str, float], ...] = ()


LONG_SCENARIOS = (
    LongScenario(
        "healthy night, 00:00-06:00: rolling deployment at 02:00, a container restart at 04:00",
        lambda: Cluster(pods=_deployed(crash=(4 * HOUR, 60)), clock=0.0),
        (),
    ),
    LongScenario(
        "healthy day, 08:00-14:00: rolling deployment at 10:00, a container restart at 12:00",
        lambda: Cluster(pods=_deployed(crash=(4 * HOUR, 60)), clock=8.0),
        (),
    ),
    LongScenario(
        "errors under probe traffic: 20% of users' requests fail for 30m at 03:00",
        lambda: Cluster(pods=replicas(3), clock=2.0, faults=(Fault(HOUR, HOUR + 1800, 0.2),)),
        (("HighErrorRate", "critical", ""),),
        # Over the 30m of errors, the seed's expression never reaches 5%: probes and scrapes
        # outnumber the users at night.
        ((f"max_over_time(({SEED_ERROR_RATIO})[30m:30s]) < bool 0.05", "1h30m", 1.0),),
    ),
    LongScenario(
        "one replica of three crash-looping for 20m at 10:00",
        lambda: Cluster(pods=_deployed(crash=(4 * HOUR, 1200)), clock=8.0),
        (("ServiceReplicaDown", "warning", ""),),
    ),
    LongScenario(
        "every replica down for 15m at 11:00",
        lambda: Cluster(pods=tuple(_restart(p, 3 * HOUR, 900) for p in replicas(3)), clock=8.0),
        (("ServiceDown", "critical", ""), ("ServiceReplicaDown", "warning", "")),
    ),
    LongScenario(
        "a release at 10:00 no longer exports http_request_duration_seconds",
        lambda: Cluster(
            pods=_deployed(missing=frozenset({"http_request_duration_seconds"})), clock=8.0
        ),
        (("MetricAbsent", "warning", "http_request_duration_seconds_bucket"),),
    ),
)


def prod_rule_groups() -> list[RuleGroup]:
    """The prod stack's rules, as the program builds them (production timing)."""
    return rule_groups(stack_config("prod"))


def promtool_scenario(scenario: LongScenario, groups: list[RuleGroup]) -> dict[str, Any]:
    cluster = scenario.cluster().run()
    expected = sorted({WATCHDOG, *scenario.fired})
    names = ("alertname", "severity", "metric")
    samples = [
        {
            "labels": "{"
            + ",".join(f'{k}="{v}"' for k, v in zip(names, f, strict=True) if v)
            + "}",
            "value": 1,
        }
        for f in expected
    ]
    checks = [
        {"expr": expr, "eval_time": at, "exp_samples": [{"labels": "{}", "value": value}]}
        for expr, at, value in scenario.checks
    ]
    return {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "30s",
        "group_eval_order": [g.name for g in groups],
        "tests": [
            {
                "name": scenario.name,
                "interval": "30s",
                "input_series": cluster.input_series(),
                "promql_expr_test": [
                    {"expr": FIRED, "eval_time": f"{HOURS}h", "exp_samples": samples},
                    *checks,
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    "scenario", LONG_SCENARIOS, ids=[s.name.split(":")[0] for s in LONG_SCENARIOS]
)
def test_hours_of_production_traffic_fire_exactly_the_expected_alerts(
    scenario: LongScenario, tmp_path: Path
) -> None:
    from infra.render.prometheus import rule_file, to_yaml

    groups = prod_rule_groups()
    (tmp_path / "rules.yaml").write_text(to_yaml(rule_file(groups)), encoding="utf-8")
    test_file = tmp_path / "scenario.yaml"
    test_file.write_text(
        yaml.safe_dump(promtool_scenario(scenario, groups), width=10**9), encoding="utf-8"
    )
    result = promtool.test_rules([test_file])
    assert result.ok, str(result)[-4000:]
