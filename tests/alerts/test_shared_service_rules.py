"""ServiceDown and ServiceReplicaDown are one rule each over every scraped service, not one
copy per service: the application group stays the same size as services are added (a copy per
service made it 1.3 KB of YAML per service, past etcd's 1.5 MiB object limit at ~1,200), and
each alert still names its own service, from the series' job, for Alertmanager to route,
group and inhibit on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import alerts.business
from alerts import build, rule_groups
from alerts.application import GROUP
from alerts.settings import Settings
from alerts.testing import GRAFANA, RULES_FILE, RUNBOOKS, write_rules
from benchmarks.estates import service_name
from infra.config import EstateConfig
from infra.render.prometheus import prometheus_rule, rule_file, to_yaml
from infra.rules import AlertRule, RuleError, RuleGroup
from infra.tools import promtool
from tests.conftest import make_config

NAMESPACE = "blue-harvest"
SHARED = ("ServiceDown", "ServiceReplicaDown")


def _estate(services: int) -> EstateConfig:
    """A `services-N` estate: the backend and generated services up to `services`, each
    serving /metrics (benchmarks/estates.py names them svc-0001, ...)."""
    generated = {
        service_name(i): {
            "image": f"ghcr.io/blue-harvest/{service_name(i)}:1.{i}.0",
            "port": 3000 + i,
        }
        for i in range(1, services)
    }
    return make_config("dev", services=generated)


def _application(config: EstateConfig) -> RuleGroup:
    [group] = [g for g in rule_groups(config) if g.name == GROUP]
    return group


def _size(group: RuleGroup) -> int:
    """Bytes of the group as the PrometheusRule object etcd stores."""
    manifest = prometheus_rule([group], name="blue-harvest", namespace="monitoring", release="r")
    return len(to_yaml(manifest).encode())


def test_the_application_group_does_not_grow_a_rule_per_service() -> None:
    few, many = _estate(3), _estate(300)
    assert (len(few.scraped_services), len(many.scraped_services)) == (3, 300)
    small, large = _application(few), _application(many)
    assert len(small.rules) == len(large.rules) == 6
    for group in (small, large):
        assert [a.name for a in group.alerts].count("ServiceDown") == 1
        assert [a.name for a in group.alerts].count("ServiceReplicaDown") == 1
    # What grows is each service's job in the two rules' `job=~` alternation (3 selectors,
    # "svc-0001|" each): ~27 bytes a service, where a copy per service was ~1,300.
    per_service = (_size(large) - _size(small)) / 297
    assert per_service < 40, per_service
    assert _size(large) < 20_000, _size(large)
    # The selector names every scraped service, and none other.
    [down] = [a for a in large.alerts if a.name == "ServiceDown"]
    jobs = "|".join(sorted(many.scraped_services))
    assert f'up{{job=~"{jobs}"}}' in down.expr


def test_only_absent_per_service_rules_grow_with_services() -> None:
    """ScrapeTargetMissing stays per service: absent() cannot aggregate over jobs."""
    for services in (3, 300):
        names = [a.name for g in rule_groups(_estate(services)) for a in g.alerts]
        assert names.count("ScrapeTargetMissing") == services
        for name in SHARED:
            assert names.count(name) == 1


def test_a_templated_service_is_only_allowed_when_it_reads_a_label() -> None:
    rule = build(Settings())[1].alerts[-1]
    fields: dict[str, Any] = {
        "name": "ServiceReplicaDown",
        "expr": rule.expr,
        "severity": "warning",
        "summary": "s",
        "description": "d",
        "runbook_url": rule.runbook_url,
        "dashboard": rule.dashboard,
    }
    assert AlertRule(**fields, service="{{ $labels.job }}", service_from_label=True).all_labels == {
        "service": "{{ $labels.job }}",
        "severity": "warning",
    }
    with pytest.raises(RuleError, match="is not a service name"):
        AlertRule(**fields, service="{{ $labels.job }}")
    with pytest.raises(RuleError, match=r"is not a template such as \{\{ \$labels\.job \}\}"):
        AlertRule(**fields, service="backend", service_from_label=True)
    with pytest.raises(RuleError, match="is not a template"):
        AlertRule(**fields, service="{{ .Labels.job }}", service_from_label=True)


def test_a_shared_rule_declared_twice_is_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """In one group (RuleGroup) and across groups (alerts.build's check)."""
    [app] = [g for g in build(Settings()) if g.name == GROUP]
    down = next(a for a in app.alerts if a.name == "ServiceDown")
    with pytest.raises(RuleError, match="ServiceDown: appears twice with the same labels"):
        RuleGroup(name=GROUP, rules=(*app.rules, down))
    # The business group declaring it too: build() names the alert and its templated service.
    business = alerts.business.group(Settings())
    twice = RuleGroup(name=business.name, rules=(*business.rules, down))
    monkeypatch.setattr(alerts.business, "group", lambda s: twice)
    with pytest.raises(RuleError, match=r"ServiceDown: declared twice for service \{\{ \$labels"):
        build(Settings())


# --------------------------------------------------------------------------- promtool

SERVICES = ("backend", "frontend", "user-api")


def _up(job: str, replica: str, values: str) -> dict[str, str]:
    labels = (
        f'job="{job}",namespace="{NAMESPACE}",pod="{job}-{replica}",instance="{job}-{replica}:80"'
    )
    return {"series": f"up{{{labels}}}", "values": values}


def _links(alert: str) -> dict[str, str]:
    return {
        "runbook_url": f"{RUNBOOKS}/{alert}",
        "dashboard": f"{GRAFANA}/d/bh-infrastructure/infrastructure?viewPanel=5",
    }


def _down(job: str, summary: str) -> dict[str, Any]:
    return {
        "exp_labels": {"job": job, "namespace": NAMESPACE, "service": job, "severity": "critical"},
        "exp_annotations": {
            "summary": summary,
            "description": f"0% of the scrape targets of job {job} in namespace {NAMESPACE}"
            " are up (it pages when no replica is up).",
            **_links("ServiceDown"),
        },
    }


def _replica_down(job: str, replica: str) -> dict[str, Any]:
    instance = f"{job}-{replica}:80"
    return {
        "exp_labels": {
            "instance": instance,
            "job": job,
            "namespace": NAMESPACE,
            "pod": f"{job}-{replica}",
            "service": job,
            "severity": "warning",
        },
        "exp_annotations": {
            "summary": f"A {job} replica is down",
            "description": f"Prometheus cannot scrape {instance} of job {job}: the replica is"
            " down or not serving /metrics. The other replicas still serve; ServiceDown pages"
            " when none is left.",
            **_links("ServiceReplicaDown"),
        },
    }


def _cases(backend_summary: str) -> dict[str, Any]:
    """backend: both replicas down; user-api: its one replica down; frontend: one of two."""
    return {
        "rule_files": [RULES_FILE],
        "evaluation_interval": "1m",
        "tests": [
            {
                "name": "two of three services down, one replica of the third",
                "interval": "1m",
                "input_series": [
                    _up("backend", "a", "0x10"),
                    _up("backend", "b", "0x10"),
                    _up("frontend", "a", "1x10"),
                    _up("frontend", "b", "0x10"),
                    _up("user-api", "a", "0x10"),
                    # Another job in the namespace, down: not a service, no alert.
                    _up("node-exporter", "a", "0x10"),
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "6m",
                        "alertname": "ServiceDown",
                        "exp_alerts": [
                            _down("backend", backend_summary),
                            _down("user-api", "User-api service is down"),
                        ],
                    },
                    {
                        "eval_time": "6m",
                        "alertname": "ServiceReplicaDown",
                        "exp_alerts": [
                            _replica_down("backend", "a"),
                            _replica_down("backend", "b"),
                            _replica_down("frontend", "b"),
                            _replica_down("user-api", "a"),
                        ],
                    },
                ],
            }
        ],
    }


def _promtool(tmp_path: Path, backend_summary: str) -> promtool.PromtoolResult:
    settings = Settings(services=SERVICES, runbook_base_url=RUNBOOKS, grafana_url=GRAFANA)
    [app] = [g for g in build(settings) if g.name == GROUP]
    write_rules([app], tmp_path)
    assert to_yaml(rule_file([app])).count("alert: ServiceDown\n") == 1
    path = tmp_path / "shared.yaml"
    path.write_text(to_yaml(_cases(backend_summary)), encoding="utf-8")
    return promtool.test_rules([path])


def test_one_shared_rule_fires_per_service_with_its_own_labels(tmp_path: Path) -> None:
    result = _promtool(tmp_path, "Backend service is down")
    assert result.ok, str(result)
    assert "SUCCESS" in result.output


def test_the_per_service_expectations_can_fail(tmp_path: Path) -> None:
    """The same case with the summary the alert does not write fails: promtool compares the
    expanded templates, not the rule's text."""
    result = _promtool(tmp_path, "backend service is down")
    assert not result.ok
    assert "alertname: ServiceDown, time: 6m" in result.output, result.output
