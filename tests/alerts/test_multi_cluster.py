"""The rules over several clusters' series, on the real promtool.

In a cluster's own Prometheus the series carry no `cluster` label (Prometheus adds it as an
external label on the way out); in a store several clusters write to (metrics.store amp with
metrics.amp.otherClusters) every series carries one. The same rules, evaluated over series of
two clusters (`a` healthy, `b` failing), must judge each cluster on its own: the alerts fire
for `b` only, carrying `cluster="b"`, and the records keep the two apart. The existing promtool
files (alerts/tests/, the generated SLO tests) prove the label's absence changes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from alerts import build
from alerts.application import SERVICE_FROM_JOB
from alerts.recording import records
from alerts.settings import Settings
from alerts.testing import RULES_FILE, promtool_config, write_rules
from infra.render.prometheus import to_yaml
from infra.rules import AlertRule, RuleGroup, iter_alerts
from infra.tools import promtool

NAMESPACE = "blue-harvest"
#: What a series of each cluster carries besides its own labels.
BACKEND = {"job": "backend", "namespace": NAMESPACE}


def _settings() -> Settings:
    return Settings.from_config(promtool_config(), source="alerts/testing.py")


def _series(metric: str, cluster: str, values: str, **labels: str) -> dict[str, str]:
    every = {"cluster": cluster, **BACKEND, **labels}
    inner = ",".join(f'{k}="{v}"' for k, v in every.items())
    return {"series": f"{metric}{{{inner}}}", "values": values}


def _requests(cluster: str, ok: int, failed: int) -> list[dict[str, str]]:
    """Per minute, `ok` 200s and `failed` 500s of user requests to /api/posts."""
    route = {"instance": "backend-0", "route": "/api/posts"}
    return [
        _series("http_requests_total", cluster, f"0+{ok}x30", status_code="200", **route),
        _series("http_requests_total", cluster, f"0+{failed}x30", status_code="500", **route),
    ]


def _buckets(cluster: str, bounds: dict[str, int]) -> list[dict[str, str]]:
    return [
        _series(
            "http_request_duration_seconds_bucket",
            cluster,
            f"0+{per_minute}x30",
            instance="backend-0",
            le=le,
        )
        for le, per_minute in bounds.items()
    ]


def _fired(alert: AlertRule, cluster: str, description: str, **annotations: str) -> dict[str, Any]:
    # A rule shared by every service takes `service` from the series' job: the backend here.
    service = {"service": "backend"} if alert.service_from_label else {}
    return {
        "exp_labels": {**alert.all_labels, **BACKEND, **service, "cluster": cluster},
        "exp_annotations": {**alert.annotations, "description": description, **annotations},
    }


def _document(groups: list[RuleGroup]) -> dict[str, Any]:
    s = _settings()
    r = records(s)
    alerts = {(a.name, a.service): a for a in iter_alerts(groups)}
    error_rate = alerts[("HighErrorRate", "backend")]
    down = alerts[("ServiceDown", SERVICE_FROM_JOB)]
    p95 = f'{r.latency}{{quantile="0.95"}}'
    return {
        "rule_files": [RULES_FILE],
        "evaluation_interval": "1m",
        "group_eval_order": ["recording", "application", "business", "platform"],
        "tests": [
            {
                # a: 2 of 64 requests a minute fail (3.1%); b: 1 of 8 (12.5%). Added together,
                # 3 of 72 (4.2%) is below HighErrorRate's 5%: b's errors would go unseen.
                "name": "errors in cluster b page for b only",
                "interval": "1m",
                "input_series": [*_requests("a", 62, 2), *_requests("b", 7, 1)],
                "alert_rule_test": [
                    {
                        "eval_time": "10m",
                        "alertname": "HighErrorRate",
                        "exp_alerts": [
                            _fired(
                                error_rate,
                                "b",
                                "12.5% of backend user requests failed with a 5xx status"
                                " over the last 5m.",
                            )
                        ],
                    }
                ],
                "promql_expr_test": [
                    {
                        "expr": r.error_ratio,
                        "eval_time": "10m",
                        "exp_samples": [
                            {"labels": _labels(r.error_ratio, "a"), "value": 0.03125},
                            {"labels": _labels(r.error_ratio, "b"), "value": 0.125},
                        ],
                    }
                ],
            },
            {
                # Every a request within 0.5s, every b request between 1s and 3s: summed
                # over both clusters' buckets, one p95 would sit between the two.
                "name": "each cluster has its own p95",
                "interval": "1m",
                "input_series": [
                    *_requests("a", 100, 0),
                    *_buckets("a", {"0.5": 100, "1": 100, "3": 100, "+Inf": 100}),
                    *_requests("b", 100, 0),
                    *_buckets("b", {"0.5": 0, "1": 0, "3": 100, "+Inf": 100}),
                ],
                "promql_expr_test": [
                    {
                        "expr": p95,
                        "eval_time": "10m",
                        "exp_samples": [
                            {"labels": _labels(r.latency, "a", quantile="0.95"), "value": 0.475},
                            {"labels": _labels(r.latency, "b", quantile="0.95"), "value": 2.9},
                        ],
                    }
                ],
            },
            {
                # a: both replicas up; b: none. Across both, half the replicas are up, which
                # is no outage; per cluster, b has none left.
                "name": "every replica of cluster b down pages for b only",
                "interval": "1m",
                "input_series": [
                    _series("up", "a", "1x10", instance="backend-0"),
                    _series("up", "a", "1x10", instance="backend-1"),
                    _series("up", "b", "0x10", instance="backend-0"),
                    _series("up", "b", "0x10", instance="backend-1"),
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "5m",
                        "alertname": "ServiceDown",
                        "exp_alerts": [
                            _fired(
                                down,
                                "b",
                                "0% of the scrape targets of job backend in namespace"
                                f" {NAMESPACE} are up (it pages when no replica is up).",
                                summary="Backend service is down",
                            )
                        ],
                    }
                ],
            },
        ],
    }


def _labels(record: str, cluster: str, **extra: str) -> str:
    every = {"cluster": cluster, **BACKEND, **extra}
    return record + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(every.items())) + "}"


def _run(groups: list[RuleGroup], tmp_path: Path) -> promtool.PromtoolResult:
    write_rules(groups, tmp_path)
    path = tmp_path / "multi-cluster.yaml"
    path.write_text(to_yaml(_document(groups)), encoding="utf-8")
    return promtool.test_rules([path])


def test_the_rules_judge_each_cluster_on_its_own(tmp_path: Path) -> None:
    result = _run(build(_settings()), tmp_path)
    assert result.ok, str(result)
    assert "SUCCESS" in result.output


def test_rules_that_add_clusters_together_fail_the_same_cases(tmp_path: Path) -> None:
    """The cases can fail: grouping by `namespace, job` alone (as before `cluster` was kept)
    sums the two clusters, and each case sees it."""
    blind = replace(_settings(), service_labels=("namespace", "job"))
    result = _run(build(blind), tmp_path)
    assert not result.ok
    # Both alerts stay silent, and both records lose the cluster (one mixed series each).
    for failure in (
        "alertname: HighErrorRate, time: 10m",
        "alertname: ServiceDown, time: 5m",
        f'expr: "{records(blind).error_ratio}", time: 10m',
        'expr: "job_quantile:http_request_duration_seconds:histogram_quantile',
    ):
        assert failure in result.output, result.output
    assert "got:[]" in result.output
