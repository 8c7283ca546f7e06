"""Rule groups rendered as the plain rule file and as a PrometheusRule, and their YAML."""

from __future__ import annotations

import yaml

from alerts import rule_groups
from infra.render.prometheus import prometheus_rule, rule_file, to_yaml
from infra.rules import AlertRule, RecordingRule, RuleGroup
from tests.conftest import make_config

ALERT = AlertRule(
    name="ServiceDown",
    expr='up{job="backend"}\n== 0',
    for_="1m",
    severity="critical",
    service="backend",
    summary="Backend service is down",
    description="{{ $labels.instance }} is down.",
    runbook_url="https://runbooks.example/ServiceDown",
    dashboard="https://grafana.example/d/bh-infrastructure/infrastructure?viewPanel=5",
    labels={"team": "sre"},
)
RECORD = RecordingRule(
    record="job:http_requests:rate5m",
    expr='sum by (job) (rate(http_requests_total{job="backend"}[5m]))',
)
GROUP = RuleGroup(name="application", interval="30s", rules=(RECORD, ALERT))


def test_rule_file_is_the_groups_document_promtool_reads() -> None:
    assert rule_file(GROUP) == {
        "groups": [
            {
                "name": "application",
                "interval": "30s",
                "rules": [
                    {
                        "record": "job:http_requests:rate5m",
                        "expr": 'sum by (job) (rate(http_requests_total{job="backend"}[5m]))',
                    },
                    {
                        "alert": "ServiceDown",
                        "expr": 'up{job="backend"}\n== 0',
                        "for": "1m",
                        "labels": {"team": "sre", "service": "backend", "severity": "critical"},
                        "annotations": {
                            "summary": "Backend service is down",
                            "description": "{{ $labels.instance }} is down.",
                            "runbook_url": "https://runbooks.example/ServiceDown",
                            "dashboard": (
                                "https://grafana.example/d/bh-infrastructure/infrastructure"
                                "?viewPanel=5"
                            ),
                        },
                    },
                ],
            }
        ]
    }


def test_optional_fields_are_left_out_rather_than_rendered_empty() -> None:
    watchdog = AlertRule(**{**ALERT.__dict__, "name": "Watchdog", "for_": None, "labels": {}})
    [group] = rule_file(RuleGroup(name="platform", rules=(watchdog,)))["groups"]
    assert "interval" not in group
    assert "for" not in group["rules"][0]
    assert "labels" not in rule_file(RuleGroup(name="r", rules=(RECORD,)))["groups"][0]["rules"][0]


def test_recording_rule_labels_are_rendered() -> None:
    p95 = RecordingRule(record="job_quantile:x:histogram_quantile", expr="up", labels={"q": "1"})
    [group] = rule_file(RuleGroup(name="r", rules=(p95,)))["groups"]
    assert group["rules"][0]["labels"] == {"q": "1"}


def test_prometheus_rule_carries_the_release_label_the_operator_selects_on() -> None:
    manifest = prometheus_rule(
        [GROUP],
        name="blue-harvest-alerts",
        namespace="monitoring",
        release="kps",
        labels={"app.kubernetes.io/part-of": "blue-harvest"},
    )
    assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
    assert manifest["kind"] == "PrometheusRule"
    assert manifest["metadata"] == {
        "name": "blue-harvest-alerts",
        "namespace": "monitoring",
        "labels": {"app.kubernetes.io/part-of": "blue-harvest", "release": "kps"},
    }
    assert manifest["spec"] == rule_file(GROUP)


def test_the_release_label_cannot_be_overridden_by_extra_labels() -> None:
    manifest = prometheus_rule(
        GROUP, name="x", namespace="m", release="kps", labels={"release": "o"}
    )
    assert manifest["metadata"]["labels"]["release"] == "kps"


def test_yaml_is_sorted_block_style_with_literal_multi_line_exprs() -> None:
    text = to_yaml(rule_file(GROUP))
    assert text == (
        "groups:\n"
        "- interval: 30s\n"
        "  name: application\n"
        "  rules:\n"
        '  - expr: sum by (job) (rate(http_requests_total{job="backend"}[5m]))\n'
        "    record: job:http_requests:rate5m\n"
        "  - alert: ServiceDown\n"
        "    annotations:\n"
        "      dashboard: https://grafana.example/d/bh-infrastructure/infrastructure?viewPanel=5\n"
        "      description: '{{ $labels.instance }} is down.'\n"
        "      runbook_url: https://runbooks.example/ServiceDown\n"
        "      summary: Backend service is down\n"
        "    expr: |-\n"
        '      up{job="backend"}\n'
        "      == 0\n"
        "    for: 1m\n"
        "    labels:\n"
        "      service: backend\n"
        "      severity: critical\n"
        "      team: sre\n"
    )
    assert yaml.safe_load(text) == rule_file(GROUP)


def test_yaml_never_folds_a_long_expression() -> None:
    long_expr = " + ".join(f'metric_{i}{{job="backend"}}' for i in range(20))
    record = RecordingRule(record="job:long:sum", expr=long_expr)
    text = to_yaml(rule_file(RuleGroup(name="r", rules=(record,))))
    assert f"expr: {long_expr}\n" in text


def test_yaml_is_deterministic_for_a_whole_stack() -> None:
    first = to_yaml(rule_file(rule_groups(make_config("prod"))))
    second = to_yaml(rule_file(rule_groups(make_config("prod"))))
    assert first == second
    assert "&" not in first.replace("&&", "")  # no YAML anchors
