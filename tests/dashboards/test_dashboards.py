"""The four dashboards: identities from dashboard_refs, all checks clean on every stack, alert
links that land on panels showing what the alert evaluates, and one build per config."""

from __future__ import annotations

from typing import Any

import pytest

import dashboards
from alerts import rule_groups
from infra.catalog import dashboard_refs
from infra.checks.dashboards import (
    alert_links,
    check_alert_links,
    check_estate,
    panel_metrics,
    panels,
    variable_values,
)
from infra.estate import plan
from infra.naming import DATASOURCE_UIDS
from infra.rules import iter_alerts, metric_names
from tests.conftest import make_config, stack_config


def _by_uid(config_docs: list[dashboards.DashboardDoc]) -> dict[str, dict[str, Any]]:
    return {d.uid: d.json for d in config_docs}


def _panel(model: dict[str, Any], panel_id: int) -> dict[str, Any]:
    (panel,) = [p for p in panels(model) if p.get("id") == panel_id]
    return dict(panel)


def test_the_four_dashboards_have_the_uids_and_titles_of_dashboard_refs() -> None:
    docs = dashboards.build_all(stack_config("prod"), multi_cluster=False)
    # ... then the SLO dashboards, one per service with SLOs (tests/dashboards/test_slo.py).
    refs = [*dashboard_refs.DASHBOARDS, dashboard_refs.slo_dashboard("backend")]
    assert [(d.uid, d.title) for d in docs] == [(r.uid, r.title) for r in refs]
    assert all(d.json["uid"] == d.uid and d.json["title"] == d.title for d in docs)


def test_every_stack_passes_every_dashboard_check(stack_name: str) -> None:
    findings = check_estate(plan(stack_config(stack_name)))
    assert [str(f) for f in findings] == []


def test_every_alert_link_of_every_stack_opens_a_real_panel(stack_name: str) -> None:
    config = stack_config(stack_name)
    groups = rule_groups(config)
    links = alert_links(groups)
    assert len(links) >= 9
    models = [d.json for d in dashboards.build_all(config, multi_cluster=False)]
    assert check_alert_links(models, links) == []


def test_the_panel_an_alert_links_to_reads_what_the_alert_evaluates() -> None:
    config = stack_config("prod")
    models = _by_uid(dashboards.build_all(config, multi_cluster=False))
    checked = 0
    for alert in iter_alerts(rule_groups(config)):
        reads = metric_names(alert.expr)
        if not reads:  # Watchdog: vector(1)
            continue
        path, _, query = alert.dashboard.partition("?viewPanel=")
        uid = path.split("/d/", 1)[1].split("/", 1)[0]
        model = models[uid]
        shown = panel_metrics(model, _panel(model, int(query)))
        assert reads & shown, f"{alert.name} reads {sorted(reads)}; its panel shows {sorted(shown)}"
        checked += 1
    assert checked >= 8


def test_building_twice_gives_the_same_bytes() -> None:
    config = stack_config("prod")
    first = [d.text for d in dashboards.build_all(config, multi_cluster=False)]
    second = [d.text for d in dashboards.build_all(stack_config("prod"), multi_cluster=False)]
    assert first == second


def test_canonical_json_has_no_volatile_fields_and_sorted_keys() -> None:
    for doc in dashboards.build_all(stack_config("dev"), multi_cluster=False):
        assert "id" not in doc.json
        assert "version" not in doc.json
        assert doc.text.endswith("}\n")
        assert doc.text == dashboards.canonical_json(doc.json)


def test_template_variables_default_to_the_stack_and_the_backend() -> None:
    config = make_config("staging", cluster={"namespace": "bh-apps"})
    for doc in dashboards.build_all(config, multi_cluster=False):
        if doc.uid == dashboard_refs.ESTATE_HEALTH.uid or doc.uid.startswith("bh-slo-"):
            # About the estate, not a workload, or one service's own SLOs (selected by their
            # `slo` label): no namespace or service to choose.
            assert variable_values(doc.json) == {"environment": "staging"}
            continue
        assert variable_values(doc.json) == {
            "environment": "staging",
            "namespace": "bh-apps",
            "service": "backend",
        }


def test_rates_use_the_rate_interval_and_every_query_selects_the_variables() -> None:
    for doc in dashboards.build_all(stack_config("prod"), multi_cluster=False):
        for panel in panels(doc.json):
            for target in panel.get("targets") or []:
                if target["datasource"]["type"] != "prometheus":
                    continue
                expr = target["expr"]
                assert 'environment=~"$environment|"' in expr, (doc.uid, panel["id"], expr)
                if "rate(" in expr and "[$__rate_interval]" not in expr:
                    pytest.fail(f"{doc.uid} panel {panel['id']}: fixed rate window in {expr}")


def test_logs_and_traces_panels_use_loki_and_jaeger_when_they_are_deployed() -> None:
    model = _by_uid(dashboards.build_all(stack_config("prod"), multi_cluster=False))[
        "bh-application-overview"
    ]
    types = {p["type"]: p for p in panels(model)}
    assert types["logs"]["datasource"]["uid"] == DATASOURCE_UIDS["loki"]
    assert types["logs"]["targets"][0]["expr"] == (
        '{environment="$environment", namespace="$namespace", container="$service", level="error"}'
    )
    assert types["table"]["targets"][0]["datasource"]["uid"] == DATASOURCE_UIDS["jaeger"]
    assert types["table"]["targets"][0]["service"] == "blue-harvest-$service"
    (link,) = _panel(model, dashboard_refs.RESPONSE_TIME.panel_id)["links"]
    assert link["url"].startswith("/explore?")
    assert DATASOURCE_UIDS["jaeger"] in link["url"]


def test_without_loki_and_tracing_there_are_no_panels_that_would_need_them() -> None:
    config = make_config("dev", loki={"enabled": False}, tracing={"enabled": False})
    model = _by_uid(dashboards.build_all(config, multi_cluster=False))["bh-application-overview"]
    assert {p["type"] for p in panels(model)} == {"timeseries", "stat"}
    assert "links" not in _panel(model, dashboard_refs.RESPONSE_TIME.panel_id)
    assert check_estate(plan(config)) == []


def test_panels_draw_the_thresholds_of_the_alerts_that_link_to_them() -> None:
    config = make_config("staging", alerting={"overrides": {"HighErrorRate": {"threshold": 0.13}}})
    model = _by_uid(dashboards.build_all(config, multi_cluster=False))["bh-application-overview"]
    panel = _panel(model, dashboard_refs.ERROR_RATE.panel_id)
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["value"] for s in steps] == [None, 0.13]
    assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "dashed"}


def test_scrape_targets_panel_covers_every_service_with_a_target() -> None:
    config = make_config(
        "dev",
        extra={
            "blue-harvest:services": {
                "backend": {"image": "ghcr.io/blue-harvest/backend:1.42.0", "port": 4000},
                "frontend": {"image": "ghcr.io/blue-harvest/frontend:1.42.0", "port": 3000},
                "worker": {"image": "ghcr.io/blue-harvest/worker:1.0.0", "port": 9000},
            }
        },
    )
    model = _by_uid(dashboards.build_all(config, multi_cluster=False))["bh-infrastructure"]
    panel = _panel(model, dashboard_refs.SCRAPE_TARGETS.panel_id)
    # The seed's frontend serves no metrics: it has no target, so it is not listed.
    assert 'job=~"backend|worker"' in panel["targets"][0]["expr"]


def test_the_service_variable_offers_only_services_that_serve_metrics() -> None:
    workload_dashboards = [d.uid for d in dashboard_refs.DASHBOARDS[:4]]
    for doc in dashboards.build_all(make_config("prod"), multi_cluster=False):
        if doc.uid not in workload_dashboards:
            continue
        (service,) = [v for v in doc.json["templating"]["list"] if v["name"] == "service"]
        assert 'job=~"backend"' in service["query"], doc.uid
    scraped = make_config("prod", services={"frontend": {"metrics": {"enabled": True}}})
    for doc in dashboards.build_all(scraped, multi_cluster=False):
        if doc.uid not in workload_dashboards:
            continue
        (service,) = [v for v in doc.json["templating"]["list"] if v["name"] == "service"]
        assert 'job=~"backend|frontend"' in service["query"], doc.uid


def test_dashboards_are_filed_in_one_folder_per_area() -> None:
    folders = {
        d.uid: d.folder for d in dashboards.build_all(stack_config("prod"), multi_cluster=False)
    }
    assert folders["bh-application-overview"] == folders["bh-database-performance"]
    assert len({f.uid for f in folders.values()}) == 3
    assert set(folders.values()) == set(dashboards.FOLDERS)


def test_the_estate_health_dashboard_reads_each_pipeline_components_own_metrics() -> None:
    config = make_config("prod", cluster={"observabilityNamespace": "telemetry"})
    model = _by_uid(dashboards.build_all(config, multi_cluster=False))[
        dashboard_refs.ESTATE_HEALTH.uid
    ]
    exprs = {p["id"]: [t["expr"] for t in p["targets"]] for p in panels(model)}
    assert set(exprs) == {p.id for p in dashboard_refs.ESTATE_HEALTH.panels}
    for panel_exprs in exprs.values():
        for expr in panel_exprs:
            assert 'namespace="telemetry"' in expr
    assert 'service="otel-collector"' in exprs[2][1]
    assert "otelcol_receiver_refused_spans_total" in exprs[2][1]
    assert 'exporter="jaeger_storage_exporter"' in exprs[4][1]
    assert 'route="loki_api_v1_push"' in exprs[5][0]
    assert "alloy_component_controller_running_components" in exprs[7][0]
    assert "loki_write_dropped_entries_total" in exprs[8][1]
    # Every pipeline alert links to a panel of this dashboard.
    links = [
        a.annotations["dashboard"]
        for g in rule_groups(config)
        if g.name == "pipeline"
        for a in g.alerts
    ]
    assert links
    assert all("/d/bh-estate-health/estate-health?viewPanel=" in link for link in links)
