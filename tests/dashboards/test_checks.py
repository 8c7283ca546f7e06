"""Each dashboard check against a dashboard broken in exactly one way: it fails, and its
finding names the dashboard and the panel."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from grafana_foundation_sdk.builders import dashboard, logs

from dashboards.common import (
    APPLICATION_FOLDER as FOLDER,
)
from dashboards.common import (
    LOKI,
    PROMETHEUS,
    Context,
    at,
    default_timeseries,
    loki_query,
    new_dashboard,
    prometheus_query,
    render,
)
from infra.catalog import dashboard_refs
from infra.catalog.dashboard_refs import Dashboard, Panel
from infra.catalog.metrics_catalog import Metric, MetricsCatalog, metrics_catalog
from infra.checks.dashboards import (
    Finding,
    Stack,
    check_alert_links,
    check_all,
    check_contract,
    check_dashboard,
    check_layout,
    check_panel_ids,
    check_promql,
    check_queries,
    check_titles_units,
    stack_for,
    substitute,
)
from infra.estate import plan
from tests.conftest import make_config, stack_config

UID = "bh-test-broken"
REF = Dashboard(uid=UID, slug="broken", title="Broken on purpose", panels=())
GOOD_EXPR = 'sum(rate(http_requests_total{job="$service"}[$__rate_interval]))'


def _stack() -> Stack:
    return stack_for(plan(stack_config("prod")))


def _model(*exprs: str, positions: tuple[tuple[int, int, int, int], ...] = ()) -> dict[str, Any]:
    """A one-dashboard fixture: panel i+1 queries exprs[i] at positions[i] (a row by default)."""
    ctx = Context.from_config(stack_config("prod"), multi_cluster=False)
    d = new_dashboard(REF, ctx, description="fixture", tags=["test"])
    for i, expr in enumerate(exprs):
        pos = positions[i] if positions else (8 * i, 0, 8, 8)
        d = d.with_panel(
            default_timeseries(ctx, i + 1, f"Panel {i + 1}", "short", "fixture")
            .with_target(prometheus_query(ctx, expr, "x"))
            .grid_pos(at(*pos))
        )
    return copy.deepcopy(render(d, FOLDER).json)


def _only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [str(f) for f in findings]
    return findings[0]


def test_the_fixture_itself_is_clean() -> None:
    assert check_dashboard(_model(GOOD_EXPR, GOOD_EXPR), _stack()) == []


def test_a_broken_query_fails_naming_the_dashboard_and_the_panel() -> None:
    model = _model(GOOD_EXPR, "sum(rate(http_requests_total[$__rate_interval])")
    finding = _only(check_dashboard(model, _stack()))
    assert finding.severity == "error"
    assert finding.dashboard == UID
    assert finding.panel == 'panel 2 "Panel 2"'
    assert "not valid PromQL" in finding.message
    assert str(finding).startswith(f'error: {UID}, panel 2 "Panel 2": query A is not valid')


def test_an_unknown_metric_fails_naming_the_metric() -> None:
    model = _model("sum(htp_requests_total)", GOOD_EXPR)
    finding = _only(check_dashboard(model, _stack()))
    assert (finding.dashboard, finding.panel) == (UID, 'panel 1 "Panel 1"')
    assert "htp_requests_total, which is not in the metrics catalog" in finding.message


def test_an_unknown_data_source_fails_naming_the_uid() -> None:
    model = _model(GOOD_EXPR)
    model["panels"][0]["targets"][0]["datasource"] = {"type": "prometheus", "uid": "prometheus"}
    finding = _only(check_dashboard(model, _stack()))
    assert (finding.dashboard, finding.panel) == (UID, 'panel 1 "Panel 1"')
    assert "uses data source 'prometheus'" in finding.message
    assert "bh-prometheus" in finding.message  # the known ones are listed


def test_a_data_source_of_the_wrong_type_fails() -> None:
    model = _model(GOOD_EXPR)
    model["panels"][0]["datasource"] = {"type": "prometheus", "uid": LOKI.uid}
    model["panels"][0]["targets"][0]["datasource"] = {"type": "prometheus", "uid": LOKI.uid}
    messages = [f.message for f in check_queries(model, _stack())]
    assert any("is loki" in m for m in messages), messages


def test_overlapping_panels_fail_naming_both() -> None:
    model = _model(GOOD_EXPR, GOOD_EXPR, positions=((0, 0, 12, 8), (6, 4, 12, 8)))
    finding = _only(check_dashboard(model, _stack()))
    assert (finding.dashboard, finding.panel) == (UID, 'panel 2 "Panel 2"')
    assert finding.message == 'overlaps panel 1 "Panel 1"'


def test_touching_panels_do_not_overlap() -> None:
    model = _model(GOOD_EXPR, GOOD_EXPR, positions=((0, 0, 12, 8), (12, 0, 12, 8)))
    assert check_layout(model) == []


def test_a_panel_past_the_grid_edge_fails() -> None:
    model = _model(GOOD_EXPR)
    model["panels"][0]["gridPos"] = {"x": 16, "y": 0, "w": 12, "h": 8}
    assert "past the grid's 24" in _only(check_layout(model)).message


def test_duplicate_panel_ids_fail() -> None:
    model = _model(GOOD_EXPR, GOOD_EXPR)
    model["panels"][1]["id"] = 1
    finding = _only(check_panel_ids(model))
    assert finding.message == 'reuses id 1 of panel 1 "Panel 1"'


def test_a_panel_without_unit_or_title_fails_but_a_logs_panel_needs_no_unit() -> None:
    model = _model(GOOD_EXPR, GOOD_EXPR)
    del model["panels"][0]["fieldConfig"]["defaults"]["unit"]
    model["panels"][1]["title"] = ""
    messages = sorted((f.panel, f.message) for f in check_titles_units(model))
    assert messages == [('panel 1 "Panel 1"', "has no unit"), ('panel 2 ""', "has no title")]
    logs_panel = (
        logs.Panel()
        .id(3)
        .title("Logs")
        .datasource(LOKI)
        .with_target(loki_query('{namespace="$namespace"}'))
    )
    with_logs = render(
        dashboard.Dashboard("Logs").uid("bh-logs").with_panel(logs_panel.grid_pos(at(0, 0, 24, 8))),
        FOLDER,
    ).json
    assert check_dashboard(with_logs, _stack()) == []


def test_a_fixed_rate_window_is_a_warning() -> None:
    model = _model('sum(rate(http_requests_total{job="$service"}[5m]))')
    finding = _only(check_dashboard(model, _stack()))
    assert finding.severity == "warning"
    assert "rate(...[5m])" in finding.message
    assert "$__rate_interval" in finding.message


def test_a_fixed_increase_window_is_fine() -> None:
    assert check_dashboard(_model("sum(increase(user_signups_total[1d]))"), _stack()) == []


def test_an_undefined_template_variable_fails() -> None:
    finding = _only(check_dashboard(_model('sum(up{cluster="$cluster"})'), _stack()))
    assert "$cluster" in finding.message
    assert finding.panel == 'panel 1 "Panel 1"'


def test_a_range_vector_query_fails() -> None:
    finding = _only(check_dashboard(_model("up[$__rate_interval]"), _stack()))
    assert "range vector" in finding.message


def test_a_variable_query_reading_an_unknown_metric_fails() -> None:
    model = _model(GOOD_EXPR)
    model["templating"]["list"][2]["query"] = "label_values(upp, job)"
    finding = _only(check_dashboard(model, _stack()))
    assert finding.panel == 'variable "service"'
    assert "upp" in finding.message


def test_substitute_replaces_every_variable_syntax_and_reports_unknown_names() -> None:
    text, unknown = substitute(
        'a{x="$one",y="${two}",z="${two:regex}",w="[[one]]"}[$__rate_interval] $nope',
        {"one": "1", "two": "2"},
        {"__rate_interval": "11m"},
    )
    assert text == 'a{x="1",y="2",z="2",w="1"}[11m] unknown'
    assert unknown == ["nope"]


def test_check_promql_reports_every_problem_of_one_query_at_once() -> None:
    findings = check_promql(
        'rate(nope_total[5m]) + sum({job="$service"})',
        stack=_stack(),
        values={"service": "backend"},
        dashboard=UID,
        panel="panel 9",
    )
    assert sorted(f.severity for f in findings) == ["error", "error", "warning"]
    assert all(f.dashboard == UID and f.panel == "panel 9" for f in findings)


def test_the_contract_catches_a_missing_or_renamed_panel() -> None:
    ref = Dashboard(
        uid=UID,
        slug="broken",
        title="Broken on purpose",
        panels=(Panel(1, "Panel 1"), Panel(2, "Two"), Panel(3, "Three")),
    )
    findings = check_contract([_model(GOOD_EXPR, GOOD_EXPR)], [ref])
    assert sorted((f.panel, f.message) for f in findings) == [
        ('panel 2 "Two"', "is titled 'Panel 2' instead"),
        ('panel 3 "Three"', "is missing"),
    ]


def test_an_alert_link_to_a_missing_panel_or_dashboard_fails() -> None:
    model = _model(GOOD_EXPR)
    links = [
        ("Fine", f"https://grafana.example/d/{UID}/broken?viewPanel=1"),
        ("NoPanel", f"https://grafana.example/d/{UID}/broken?viewPanel=7"),
        ("NoDashboard", "https://grafana.example/d/bh-gone/gone?viewPanel=1"),
        ("NoView", f"https://grafana.example/d/{UID}/broken"),
    ]
    findings = check_alert_links([model], links)
    assert sorted((f.panel, f.dashboard) for f in findings) == [
        ("alert NoDashboard", "bh-gone"),
        ("alert NoPanel", UID),
        ("alert NoView", UID),
    ]


def test_check_all_refuses_two_dashboards_with_one_uid() -> None:
    model = _model(GOOD_EXPR)
    findings = check_all([model, model], _stack(), refs=[])
    assert [f.message for f in findings] == ["two dashboards share this uid"]


def test_the_catalog_knows_histogram_forms_and_the_recording_rules() -> None:
    catalog = _stack().metrics
    assert isinstance(catalog, MetricsCatalog)
    for name in (
        "http_request_duration_seconds_bucket",
        "http_request_duration_seconds_sum",
        "http_request_duration_seconds_count",
        "http_requests_total",
        "job:http_requests:rate5m",
        "container_cpu_usage_seconds_total",
        "kubelet_volume_stats_used_bytes",
        "up",
    ):
        assert name in catalog, name
    assert "http_request_duration_seconds" not in catalog
    found = catalog.find("job:cache_hits:ratio_rate5m")
    assert found is not None
    assert found.source == "recording rule"


def test_the_catalog_refuses_a_series_declared_twice() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        MetricsCatalog(
            metrics=(
                Metric("x_seconds", "histogram", "application", "x"),
                Metric("x_seconds_count", "counter", "application", "x count"),
            )
        )


def test_the_catalog_follows_the_rule_groups() -> None:
    from alerts import rule_groups

    names = metrics_catalog(rule_groups(make_config("dev"))).series
    assert "job_table_quantile:db_query_duration_seconds:histogram_quantile" in names


def test_the_estate_dashboards_reference_only_the_stack_data_sources() -> None:
    stack = _stack()
    assert set(stack.datasources) >= {PROMETHEUS.uid, LOKI.uid}
    assert dashboard_refs.DASHBOARDS  # the contract is not empty


def test_a_mixed_panel_may_query_several_data_sources() -> None:
    model = _model(GOOD_EXPR)
    model["panels"][0]["datasource"] = {"type": "datasource", "uid": "-- Mixed --"}
    model["panels"][0]["targets"].append(
        {"refId": "B", "datasource": LOKI.to_json(), "expr": '{namespace="$namespace"}'}
    )
    assert check_queries(model, _stack()) == []


def test_estate_check_holds_each_slo_dashboard_to_its_contract() -> None:
    """The SLO dashboards a stack must have come from its SLO alerts, so a dashboard that
    lost a panel its burn alerts or the catalogue name is a finding."""
    from infra.checks.dashboards import check_contract, slo_dashboard_refs
    from infra.estate import plan
    from tests.conftest import stack_config

    estate = plan(stack_config("prod"))
    refs = slo_dashboard_refs(estate.monitoring.groups)
    assert [r.uid for r in refs] == ["bh-slo-backend"]
    models = [doc.json for doc in estate.dashboards.dashboards]
    assert check_contract(models, refs) == []
    (slo,) = [m for m in models if m["uid"] == "bh-slo-backend"]
    broken = {**slo, "panels": [p for p in slo["panels"] if p.get("id") != 12]}
    others = [m for m in models if m["uid"] != "bh-slo-backend"]
    findings = check_contract([*others, broken], refs)
    assert [(f.dashboard, f.message) for f in findings] == [("bh-slo-backend", "is missing")]
