"""The SLO dashboards (dashboards/slo.py): one per service with SLOs, the panels dashboard_refs
fixes, queries that read the SLO records, and the burn alerts' links landing on them."""

from __future__ import annotations

from typing import Any

import dashboards
from alerts.slos import TIERS, Slo, slos_from_config, windows
from dashboards import slo
from dashboards.common import Context
from dashboards.slo import sli_selector
from infra.catalog import dashboard_refs
from infra.checks.dashboards import alert_links, check_alert_links, check_contract, panels
from infra.config.model import EstateConfig
from infra.estate import plan
from tests.conftest import make_config, stack_config


def _slo_docs(config: EstateConfig) -> dict[str, dict[str, Any]]:
    return {
        d.uid: d.json
        for d in dashboards.build_all(config, multi_cluster=False)
        if d.uid.startswith("bh-slo-")
    }


def _slos(config: EstateConfig) -> tuple[Slo, ...]:
    return slos_from_config(config, source="test")


def _panel(model: dict[str, Any], panel_id: int) -> dict[str, Any]:
    (panel,) = [p for p in panels(model) if p.get("id") == panel_id]
    return dict(panel)


def test_prod_has_one_slo_dashboard_for_the_backend_matching_dashboard_refs() -> None:
    config = stack_config("prod")
    docs = _slo_docs(config)
    assert list(docs) == ["bh-slo-backend"]
    ref = dashboard_refs.slo_dashboard("backend", tuple(s.sli for s in _slos(config)))
    assert check_contract(docs.values(), [ref]) == []
    assert [p.id for p in ref.panels] == [1, 2, 3, 4, 5, 11, 12, 13, 14, 15]


def test_without_slos_there_is_no_slo_dashboard() -> None:
    ctx = Context.from_config(stack_config("prod"), multi_cluster=False)
    assert slo.build(ctx, ()) == []


def test_each_service_with_slos_gets_its_own_dashboard_with_only_its_slis() -> None:
    config = make_config(
        "prod",
        services={
            "worker": {
                "image": "ghcr.io/blue-harvest/worker:1.0.0",
                "port": 5000,
                "metrics": {"enabled": True},
            }
        },
        slos={"worker": {"latency": {"objective": 0.95, "thresholdSeconds": 3}}},
    )
    docs = _slo_docs(config)
    assert "bh-slo-worker" in docs
    worker = docs["bh-slo-worker"]
    # Only the latency panels, at the latency ids: a link never moves with the other SLIs.
    assert sorted(p["id"] for p in panels(worker)) == [11, 12, 13, 14, 15]
    for panel in panels(worker):
        for target in panel["targets"]:
            assert 'slo="worker-latency"' in target["expr"]


def test_every_burn_alert_links_to_its_slos_burn_rate_panel(stack_name: str) -> None:
    config = stack_config(stack_name)
    estate = plan(config)
    models = [d.json for d in estate.dashboards.dashboards]
    burn = [(a, url) for a, url in alert_links(estate.monitoring.groups) if "bh-slo-" in url]
    # Every tier of every SLO links there (none where the stack has no SLO).
    assert len(burn) == len(TIERS) * len(_slos(config))
    assert check_alert_links(models, burn) == []
    for spec in _slos(config):
        url = dashboard_refs.slo_panel(spec.service, spec.sli).url("https://g")
        assert check_alert_links(models, [("burn", url)]) == []


def test_the_panels_read_the_slos_records_and_draw_objective_and_tiers() -> None:
    config = stack_config("prod")
    model = _slo_docs(config)["bh-slo-backend"]
    (availability,) = [s for s in _slos(config) if s.sli == "availability"]
    assert availability.objective == 0.999
    sel = sli_selector(Context.from_config(config, multi_cluster=False), availability)
    objective = _panel(model, 1)["targets"][0]["expr"]
    assert objective == f"0 * max(slo:sli_error:ratio_rate30d{sel}) + 0.999"
    sli = _panel(model, 2)
    assert sli["targets"][0]["expr"] == f"1 - max(slo:sli_error:ratio_rate30d{sel})"
    steps = sli["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["value"] for s in steps] == [None, 0.999]
    budget = _panel(model, 3)["targets"][0]["expr"]
    assert budget == f"max(slo:error_budget:remaining_ratio{sel})"
    burn = _panel(model, 5)
    exprs = [t["expr"] for t in burn["targets"]]
    # Every window a tier reads, as a burn rate: the error ratio over the budget (0.001).
    assert exprs == [f"max(slo:sli_error:ratio_rate{w}{sel}) / 0.001" for w in windows()]
    drawn = [s["value"] for s in burn["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert drawn == [None, *sorted(t.factor for t in TIERS)]


def test_an_objective_changed_in_the_stack_moves_the_budget_and_the_line() -> None:
    config = make_config(
        "prod", slos={"backend": {"availability": {"objective": 0.99, "page": True}}}
    )
    model = _slo_docs(config)["bh-slo-backend"]
    burn = _panel(model, 5)["targets"][0]["expr"]
    assert burn.endswith("/ 0.01")
    line = _panel(model, 4)["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["value"] for s in line] == [None, 0.99]
