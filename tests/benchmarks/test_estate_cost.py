"""benchmarks/estate_cost.py: the exporter's text, the targets, the sharing of per-service
rules (checked by real promtool), the verdict math, and one short real run of the 10-service
estate on a real Prometheus that fails when evaluation data is missing."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.estate_cost import (
    ROUTES,
    EstateCost,
    Exporter,
    GroupCost,
    Health,
    RuleCost,
    Service,
    aggregate_rules,
    copied_per_service,
    exporter_paths,
    exposition,
    file_sd,
    measure,
    scraped_services,
    series_count,
    share_per_service_rules,
    summary,
    total_share,
    verdict,
)
from infra.catalog.metrics_catalog import APPLICATION, PROM_CLIENT_DEFAULTS
from infra.tools import tool_path


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_the_exporter_text_holds_every_metric_the_seed_and_dashboards_read() -> None:
    text = exposition(100.0)
    samples = _samples(text)
    names = {name for name, _ in samples}
    for metric in (*APPLICATION, *PROM_CLIENT_DEFAULTS):
        assert set(metric.series) <= names, metric.name
    assert series_count(text) == len(samples)
    requests = [k for k in samples if k[0] == "http_requests_total"]
    assert len(requests) == sum(len(r.statuses) for r in ROUTES) == 15
    # Each request series has a full histogram: 10 buckets, _sum and _count.
    assert sum(1 for k in samples if k[0].startswith("http_request_duration_seconds")) == 15 * 12


def test_counters_advance_with_time_and_histograms_are_cumulative() -> None:
    early, late = _samples(exposition(100.0)), _samples(exposition(200.0))
    key = (
        "http_requests_total",
        (("method", "GET"), ("route", "/api/posts"), ("status_code", "200")),
    )
    assert early[key] > 0
    assert late[key] == pytest.approx(2 * early[key])
    assert late[("active_users", ())] == early[("active_users", ())]
    labels = (("method", "GET"), ("route", "/api/posts"), ("status_code", "200"))
    buckets = sorted(
        (float(dict(k[1])["le"]), v)
        for k, v in late.items()
        if k[0] == "http_request_duration_seconds_bucket"
        and {n: v for n, v in k[1] if n != "le"} == dict(labels)
    )
    values = [v for _, v in buckets]
    assert len(values) == 10
    assert values == sorted(values)
    assert values[-1] == late[("http_request_duration_seconds_count", labels)]


def test_targets_are_one_per_replica_with_the_service_as_job() -> None:
    groups = file_sd([Service("backend", 3), Service("svc-0001", 2)], 9100)
    assert len(groups) == 5
    assert {g["labels"]["job"] for g in groups} == {"backend", "svc-0001"}
    assert all(g["targets"] == ["127.0.0.1:9100"] for g in groups)
    assert exporter_paths(groups) == {
        "/metrics/backend/0",
        "/metrics/backend/1",
        "/metrics/backend/2",
        "/metrics/svc-0001/0",
        "/metrics/svc-0001/1",
    }
    assert len({g["labels"]["instance"] for g in groups}) == 5
    assert {g["labels"]["namespace"] for g in groups} == {"blue-harvest"}


def _manifest(kube: Path, kind: str, name: str, spec: dict[str, Any]) -> None:
    doc = {"kind": kind, "metadata": {"name": name, "namespace": "blue-harvest"}, "spec": spec}
    (kube / f"{kind.lower()}-blue-harvest-{name}.yaml").write_text(yaml.safe_dump(doc))


def test_scraped_services_are_those_with_a_servicemonitor(tmp_path: Path) -> None:
    kube = tmp_path / "kubernetes"
    kube.mkdir()
    _manifest(kube, "Deployment", "backend", {"replicas": 3})
    _manifest(kube, "Deployment", "frontend", {"replicas": 2})
    _manifest(kube, "ServiceMonitor", "backend", {})
    assert scraped_services(tmp_path) == [Service("backend", 3)]
    _manifest(kube, "ServiceMonitor", "api", {})
    with pytest.raises(FileNotFoundError, match=r"deployment-blue-harvest-api\.yaml"):
        scraped_services(tmp_path)


@pytest.mark.e2e
def test_the_exporter_serves_its_targets_only(tmp_path: Path) -> None:
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps(file_sd([Service("svc-0001", 2)], 0)))
    exporter = Exporter(targets, 30)
    try:
        base = f"http://127.0.0.1:{exporter.port}"
        with urllib.request.urlopen(f"{base}/metrics/svc-0001/1", timeout=5) as resp:
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            assert "http_requests_total" in resp.read().decode()
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(f"{base}/metrics/svc-0001/2", timeout=5)
    finally:
        exporter.stop()


def _copied(service: str) -> list[dict[str, Any]]:
    labels = {"service": service, "severity": "critical"}
    return [
        {
            "alert": "ServiceDown",
            "expr": f'up{{job="{service}"}} == 0',
            "for": "1m",
            "labels": labels,
        },
        {"alert": "ServiceReplicaDown", "expr": f'up{{job="{service}"}} == 0', "labels": labels},
        {
            "alert": "ScrapeTargetMissing",
            "expr": f'absent(up{{job="{service}"}})',
            "labels": labels,
        },
    ]


def test_sharing_turns_the_copies_into_one_valid_rule_each(tmp_path: Path) -> None:
    rules = [r for s in ("backend", "svc-0001", "svc-0002") for r in _copied(s)]
    rules.append({"alert": "Watchdog", "expr": "vector(1)"})
    doc = {"groups": [{"name": "application", "interval": "30s", "rules": rules}]}
    shared, replaced = share_per_service_rules(doc)
    assert replaced == {"ServiceDown": 3, "ServiceReplicaDown": 3, "ScrapeTargetMissing": 3}
    kept = shared["groups"][0]["rules"]
    assert [r["alert"] for r in kept] == [
        "ServiceDown",
        "ServiceReplicaDown",
        "ScrapeTargetMissing",
        "Watchdog",
    ]
    assert all(r["labels"]["service"] == "{{ $labels.job }}" for r in kept[:3])
    assert kept[0]["for"] == "1m"
    assert len(doc["groups"][0]["rules"]) == 10  # the input is left as it was
    path = tmp_path / "shared.yaml"
    path.write_text(yaml.safe_dump(shared))
    check = subprocess.run(
        [tool_path("promtool"), "check", "rules", str(path)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_share_sums_each_group_over_its_own_interval() -> None:
    groups = [
        GroupCost("a.yaml", "application", 30.0, 0, 22, 4, 0.3, 0.9),
        GroupCost("s.yaml", "slos", 60.0, 18, 8, 4, 1.2, 1.5),
    ]
    assert groups[0].median_share == pytest.approx(0.01)
    assert groups[1].max_share == pytest.approx(0.025)
    assert total_share(groups) == pytest.approx(0.03)
    assert (verdict(0.049), verdict(0.05), verdict(0.2)) == ("PASS", "FAIL", "FAIL")


def test_rule_costs_sum_the_copies_and_take_the_median_over_reads() -> None:
    def read(seconds: float) -> list[dict[str, Any]]:
        rules = [{"name": "ServiceDown", "evaluationTime": seconds} for _ in range(3)]
        return [{"name": "application", "rules": [*rules, {"name": "Other"}]}]

    costs = aggregate_rules([read(0.001), read(0.003), read(0.002)])
    assert [(c.name, c.copies) for c in costs] == [("ServiceDown", 3), ("Other", 1)]
    assert costs[0].median_s == pytest.approx(0.006)
    assert costs[1].median_s == 0.0


def test_the_summary_names_the_rules_copied_per_service() -> None:
    cost = EstateCost(
        stack="services-3",
        services=3,
        scraped=[Service("backend", 3), Service("svc-0001", 2)],
        variant="as synthesized",
        scrape_interval="30s",
        groups=[GroupCost("a.yaml", "application", 30.0, 0, 6, 4, 0.003, 0.004)],
        rules=[
            RuleCost("application", "ServiceDown", 2, 0.002),
            RuleCost("application", "HighErrorRate", 1, 0.001),
        ],
        health=Health(5, 5, 5, 0.01, 0.02, 0.0, 0.0),
        head_series=1500,
        record_series=41,
        load_before=(0.5, 0.4, 0.3),
        load_after=(0.6, 0.4, 0.3),
        prometheus_cores=0.01,
        exporter_cores=0.01,
        other_cores=0.25,
        seconds=300.0,
    )
    assert [r.name for r in copied_per_service(cost)] == ["ServiceDown"]
    row = summary([cost]).splitlines()[-1]
    assert row == (
        "| services-3 (as synthesized) | 6 | 2 (5) | 3.00 | 0.010% | PASS"
        " | 2: ServiceDown (2.00) | 750 | 41 | 0.50 / 0.60 | 0.25 |"
    )


@pytest.mark.e2e
def test_a_short_real_run_of_the_10_service_estate() -> None:
    cost = measure(10, evaluations=2, interval="2s", scrape_interval="1s")
    # prod's backend (3 replicas) and svc-0001..0008 (2 each); the frontend has no metrics.
    assert len(cost.scraped) == 9
    assert cost.targets == 19
    assert cost.health.up == 19
    assert cost.health.jobs == 9
    assert cost.health.rule_failures == 0
    assert {g.group for g in cost.groups} == {
        "application",
        "business",
        "pipeline",
        "platform",
        "recording",
        "slos",
    }
    for group in cost.groups:
        assert group.evaluations >= 2, group
        assert group.interval_s == 2.0, group
        assert 0 < group.median_s <= group.max_s < group.interval_s, group
    assert 0 < cost.total_share < 1
    assert cost.prometheus_cores > 0
    # Every target's ~370 series, and the backend's records (12 + 18 SLO rules, by `le`).
    assert cost.head_series > 19 * 300
    assert cost.record_series > 30
    copies = {(r.group, r.name): r.copies for r in cost.rules}
    # Shared by every service (alerts/application.py); ScrapeTargetMissing's absent() cannot be.
    assert copies[("application", "ServiceDown")] == 1
    assert copies[("platform", "ScrapeTargetMissing")] == 9


@pytest.mark.e2e
def test_a_run_without_enough_evaluations_fails() -> None:
    with pytest.raises(TimeoutError, match="evaluat"):
        measure(10, evaluations=3, interval="1m", scrape_interval="1s", timeout=6)
