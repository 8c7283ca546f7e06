"""Dashboards over several clusters: where other clusters write to the stack's metrics store
(metrics.store amp with metrics.amp.otherClusters), every dashboard reads the workspace
(`bh-amp`), offers `$cluster` and selects it in every query, keeps `cluster` in every
aggregation, passes every dashboard check, and its panels show each cluster apart when
promtool evaluates them over two clusters' series. One cluster (every repository stack, prod's amp
included) shows none of it: tests/dashboards/snapshots hold prod byte for byte."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import promql_parser
import pytest

import dashboards
from alerts import rule_groups
from alerts.testing import RULES_FILE, write_rules
from dashboards.common import CLUSTER
from infra.catalog import dashboard_refs
from infra.checks.dashboards import (
    MACROS,
    check_estate,
    panels,
    promql_targets,
    stack_for,
    substitute,
    variable_values,
)
from infra.config.model import EstateConfig
from infra.estate import plan
from infra.naming import DATASOURCE_UIDS
from infra.render.prometheus import to_yaml
from infra.tools import promtool
from tests.conftest import make_config, stack_config

AMP = DATASOURCE_UIDS["amp"]
#: What `$cluster` stands for when a query is parsed: a value no real label carries.
CLUSTER_STAND_IN = "cluster-stand-in"


def _multi_cluster() -> EstateConfig:
    return make_config("prod", metrics={"amp": {"otherClusters": ["bh-prod-eu"]}})


def _docs(config: EstateConfig) -> list[dashboards.DashboardDoc]:
    """The dashboards as the estate's plan builds them: whether several clusters share the
    store comes from the metrics store's plan."""
    return list(plan(config).dashboards.dashboards)


def _prometheus_targets(model: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, target) of every Prometheus target (by its data source type)."""
    for panel in panels(model):
        for target in panel.get("targets") or []:
            ref = target.get("datasource") or panel.get("datasource") or {}
            if ref.get("type") == "prometheus":
                yield f"{model['uid']} panel {panel['id']} {target['refId']}", target


def _parsed(model: Mapping[str, Any], expr: str) -> promql_parser.Expr:
    values = {**variable_values(model), "cluster": CLUSTER_STAND_IN}
    text, unknown = substitute(expr, values)
    assert unknown == [], (expr, unknown)
    return promql_parser.parse(text)


def _selectors(tree: promql_parser.Expr) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)

    promql_parser.walk(tree, visit)
    return found


def _aggregations(tree: promql_parser.Expr) -> list[promql_parser.AggregateExpr]:
    found: list[promql_parser.AggregateExpr] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.AggregateExpr):
            found.append(node)

    promql_parser.walk(tree, visit)
    return found


def test_every_dashboard_gets_the_cluster_variable_all_by_default() -> None:
    docs = _docs(_multi_cluster())
    assert len(docs) >= 6
    for doc in docs:
        variables = {v["name"]: v for v in doc.json["templating"]["list"]}
        cluster = variables["cluster"]
        assert cluster["type"] == "query", doc.uid
        assert cluster["query"] == "label_values(up, cluster)", doc.uid
        assert cluster["datasource"]["uid"] == AMP, doc.uid
        assert (cluster["multi"], cluster["includeAll"]) == (True, True), doc.uid
        assert cluster["current"]["value"] == ["$__all"], doc.uid
        # After the environment, before what depends on it.
        names = list(variables)
        assert names[:2] == ["environment", "cluster"], doc.uid
        for name in ("namespace", "service"):
            if name in variables:
                assert CLUSTER in variables[name]["query"], (doc.uid, name)
                assert variables[name]["datasource"]["uid"] == AMP, (doc.uid, name)


def test_every_prometheus_query_reads_the_workspace_and_selects_the_cluster() -> None:
    checked = 0
    for doc in _docs(_multi_cluster()):
        for panel in panels(doc.json):
            if panel.get("datasource", {}).get("type") == "prometheus":
                assert panel["datasource"]["uid"] == AMP, (doc.uid, panel["id"])
        for where, target in _prometheus_targets(doc.json):
            assert target["datasource"]["uid"] == AMP, where
            expr = target["expr"]
            assert CLUSTER in expr, (where, expr)
            tree = _parsed(doc.json, expr)
            for selector in _selectors(tree):
                assert any(
                    (m.name, m.value) == ("cluster", CLUSTER_STAND_IN)
                    and m.op == promql_parser.MatchOp.Re
                    for m in selector.matchers.matchers
                ), (where, str(selector))
            # No aggregation adds clusters together, and the legend says which cluster.
            for aggregation in _aggregations(tree):
                modifier = aggregation.modifier
                assert modifier is not None, (where, str(aggregation))
                assert modifier.type == promql_parser.AggModifierType.By, (where, expr)
                assert "cluster" in modifier.labels, (where, str(aggregation))
            assert target["legendFormat"].startswith("{{cluster}} "), where
            checked += 1
    assert checked >= 40


def test_no_dashboard_reads_the_cluster_prometheus_alone() -> None:
    for doc in _docs(_multi_cluster()):
        assert DATASOURCE_UIDS["prometheus"] not in doc.text, doc.uid


def test_the_multi_cluster_stack_passes_every_dashboard_check() -> None:
    estate = plan(_multi_cluster())
    assert stack_for(estate).datasources[AMP] == "prometheus"
    assert [str(f) for f in check_estate(estate)] == []
    # The checks did read the queries: each substitutes `$cluster` like any variable.
    (overview,) = [d for d in estate.dashboards.dashboards if d.uid == "bh-application-overview"]
    assert variable_values(overview.json)["cluster"]
    assert promql_targets(overview.json, next(iter(panels(overview.json))))


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(lambda: stack_config("prod"), id="prod, amp with one cluster"),
        pytest.param(lambda: make_config("dev"), id="dev, in-cluster"),
    ],
)
def test_one_cluster_has_no_cluster_variable_and_reads_its_own_prometheus(config: Any) -> None:
    docs = _docs(config())
    for doc in docs:
        assert "$cluster" not in doc.text, doc.uid
        assert AMP not in doc.text, doc.uid
        assert "cluster" not in variable_values(doc.json), doc.uid


def test_a_selector_without_the_cluster_would_be_caught() -> None:
    """The assertions above can fail: a query written by hand without `$cluster`."""
    (doc,) = [d for d in _docs(_multi_cluster()) if d.uid == "bh-application-overview"]
    tree = _parsed(doc.json, 'sum by (cluster) (up{job="$service"})')
    (selector,) = _selectors(tree)
    assert "cluster" not in {m.name for m in selector.matchers.matchers}


def _target(model: Mapping[str, Any], panel_id: int, ref_id: str) -> str:
    (panel,) = [p for p in panels(model) if p.get("id") == panel_id]
    (target,) = [t for t in panel["targets"] if t["refId"] == ref_id]
    return str(target["expr"])


def test_the_panels_show_each_cluster_apart_on_promtool(tmp_path: Path) -> None:
    """The Error rate panel (from the recording rules) and the per-route request rate, as
    Grafana sends them with both clusters chosen, evaluated by promtool over two clusters'
    series (as the workspace holds them): one series per cluster, each its own cluster's."""
    config = _multi_cluster()
    (model,) = [d.json for d in _docs(config) if d.uid == dashboard_refs.APPLICATION_OVERVIEW.uid]
    values = {**variable_values(model), "cluster": "a|b"}
    macros = {**MACROS, "__rate_interval": "5m"}

    def query(panel_id: int, ref_id: str) -> str:
        text, unknown = substitute(_target(model, panel_id, ref_id), values, macros)
        assert unknown == []
        return text

    labels = {"environment": config.environment, "namespace": config.cluster.namespace}

    def series(cluster: str, status: str, per_minute: str) -> dict[str, str]:
        every = {
            **labels,
            "cluster": cluster,
            "job": "backend",
            "instance": "backend-0",
            "route": "/api/posts",
            "status_code": status,
        }
        inner = ",".join(f'{k}="{v}"' for k, v in every.items())
        return {"series": f"http_requests_total{{{inner}}}", "values": f"0+{per_minute}x30"}

    # a: 120 requests a minute, 1 in 64 failing; b: 60 a minute, 1 in 8 failing.
    inputs = [
        series("a", "200", "118.125"),
        series("a", "500", "1.875"),
        series("b", "200", "52.5"),
        series("b", "500", "7.5"),
    ]
    route = 'route="/api/posts"'
    doc = {
        "rule_files": [RULES_FILE],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": inputs,
                "promql_expr_test": [
                    {
                        "expr": query(dashboard_refs.ERROR_RATE.panel_id, "A"),
                        "eval_time": "10m",
                        "exp_samples": [
                            {"labels": '{cluster="a"}', "value": 0.015625},
                            {"labels": '{cluster="b"}', "value": 0.125},
                        ],
                    },
                    {
                        "expr": query(dashboard_refs.REQUEST_RATE.panel_id, "B"),
                        "eval_time": "10m",
                        "exp_samples": [
                            {"labels": f'{{cluster="a",{route}}}', "value": 2},
                            {"labels": f'{{cluster="b",{route}}}', "value": 1},
                        ],
                    },
                ],
            }
        ],
    }
    write_rules(rule_groups(config), tmp_path)
    path = tmp_path / "panels.yaml"
    path.write_text(to_yaml(doc), encoding="utf-8")
    result = promtool.test_rules([path])
    assert result.ok, str(result)
