"""SLO specs (alerts/slos.py): defaults per environment, refusals naming the key, and the
records and burn-rate alerts rendered from them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alerts import build, rule_groups, slos
from alerts.settings import Settings
from alerts.slos import LATENCY_BUCKETS, TIERS, Slo, le_values, slos_from_config, windows
from infra.config import ConfigError
from infra.rules import AlertRule, RecordingRule
from infra.synth import synth_stacks
from infra.tools import promtool
from tests.conftest import STACKS, make_config, stack_config


def _group(environment: str) -> Any:
    return next((g for g in rule_groups(stack_config(environment)) if g.name == slos.GROUP), None)


def test_defaults_per_environment() -> None:
    prod = {s.name: s for s in slos_from_config(stack_config("prod"), source="x")}
    assert prod["backend-availability"].objective == 0.999
    assert prod["backend-latency"].objective == 0.99
    assert prod["backend-latency"].threshold_seconds == 1.0
    assert all(s.page for s in prod.values())
    staging = {s.name: s for s in slos_from_config(stack_config("staging"), source="x")}
    assert staging["backend-availability"].objective == 0.995
    assert staging["backend-latency"].objective == 0.95
    # dev and local: no SLOs, no SLO group, nothing pages or tickets on a budget.
    for env in ("dev", "local"):
        assert slos_from_config(stack_config(env), source="x") == ()
        assert _group(env) is None


def test_the_slo_group_has_nine_records_and_four_alerts_per_slo() -> None:
    group = _group("prod")
    assert group.interval == "1m"
    assert len(group.records) == 9 * 2  # 7 windows, the 30d ratio, the budget left
    assert len(group.alerts) == 4 * 2
    assert windows() == ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
    per_slo = [r for r in group.records if r.labels["slo"] == "backend-availability"]
    assert [r.record for r in per_slo] == [
        *(f"slo:sli_error:ratio_rate{w}" for w in windows()),
        "slo:sli_error:ratio_rate30d",
        "slo:error_budget:remaining_ratio",
    ]


def _alerts(settings: Settings) -> list[AlertRule]:
    group = slos.group(settings)
    assert group is not None
    return list(group.alerts)


def test_the_workbook_tiers_with_their_thresholds_and_severities() -> None:
    prod = Settings.from_config(stack_config("prod"), source="x")
    alerts = [a for a in _alerts(prod) if a.labels["slo"] == "backend-availability"]
    got = [
        (a.name, a.labels["burn_rate"], a.labels["long_window"], a.labels["short_window"],
         a.severity)
        for a in alerts
    ]  # fmt: skip
    assert got == [
        ("ErrorBudgetFastBurn", "14.4", "1h", "5m", "critical"),
        ("ErrorBudgetFastBurn", "6", "6h", "30m", "critical"),
        ("ErrorBudgetSlowBurn", "3", "1d", "2h", "warning"),
        ("ErrorBudgetSlowBurn", "1", "3d", "6h", "warning"),
    ]
    fast = alerts[0]
    assert fast.expr == (
        'slo:sli_error:ratio_rate1h{slo="backend-availability"} > 0.0144\n'
        "and\n"
        'slo:sli_error:ratio_rate5m{slo="backend-availability"} > 0.0144'
    )
    assert fast.labels["sli"] == "availability"
    assert fast.labels["objective"] == "0.999"
    assert fast.labels["window"] == "30d"
    assert fast.for_ is None
    assert fast.runbook_url == "https://runbooks.blueharvest.example/alerts/ErrorBudgetFastBurn"
    assert fast.dashboard.endswith("/d/bh-slo-backend/slo-backend?viewPanel=5")


def test_without_paging_every_tier_is_a_ticket() -> None:
    slo = Slo(service="backend", sli="availability", objective=0.995, page=False)
    settings = Settings(slos=(slo,))
    assert {a.severity for a in _alerts(settings)} == {"warning"}
    assert [a.name for a in _alerts(settings)].count("ErrorBudgetFastBurn") == 2


def test_the_slis_count_user_requests_only() -> None:
    records = [r for r in _group("prod").records if r.record == "slo:sli_error:ratio_rate1h"]
    for record in records:
        assert 'route!~"/health|/health/.*|/metrics"' in record.expr
        assert "sum by (cluster, namespace, job)" in record.expr
        assert "[1h]" in record.expr
        assert "> 0)" in record.expr  # no user request: no sample, so no burn
    availability, latency = records
    assert 'status_code=~"5.."' in availability.expr
    assert 'le=~"1|1\\\\.0"' in latency.expr
    assert "http_request_duration_seconds_count" in latency.expr


def test_budget_and_window_ratio_read_the_five_minute_record() -> None:
    by_name = {r.record: r for r in _group("prod").records if r.labels["slo"] == "backend-latency"}
    assert by_name["slo:sli_error:ratio_rate30d"].expr == (
        'avg_over_time(slo:sli_error:ratio_rate5m{slo="backend-latency"}[30d])'
    )
    assert by_name["slo:error_budget:remaining_ratio"].expr == (
        '1 - slo:sli_error:ratio_rate30d{slo="backend-latency"} / 0.01'
    )


def test_budget_is_exact_and_thresholds_follow_the_objective() -> None:
    slo = Slo(service="backend", sli="availability", objective=0.999)
    assert slo.budget == Decimal("0.001")
    assert [str(slos.threshold(slo, t)) for t in TIERS] == ["0.0144", "0.0060", "0.0030", "0.0010"]
    assert slo.describe() == "99.9% of user requests not answered 5xx"
    latency = Slo(service="backend", sli="latency", objective=0.99, threshold_seconds=1.0)
    assert latency.describe() == "99% of user requests within 1s"


def test_le_values_match_prom_client_and_prometheus_3() -> None:
    assert le_values(1.0) == ("1", "1.0")
    assert le_values(0.3) == ("0.3",)
    assert 1.0 in LATENCY_BUCKETS


@pytest.mark.parametrize(
    ("slos_key", "key", "message"),
    [
        ({"checkout": {"availability": {"objective": 0.999}}}, "blue-harvest:slos.checkout",
         "no service named checkout"),
        ({"backend": {"errors": {"objective": 0.999}}}, "blue-harvest:slos.backend.errors",
         "known SLIs: availability, latency"),
        ({"backend": {"latency": {"objective": 0.99, "thresholdSeconds": 2}}},
         "blue-harvest:slos.backend.latency.thresholdSeconds", "allowed: 0.1, 0.3"),
        ({"backend": {"availability": {"objective": 0.99, "thresholdSeconds": 1}}},
         "blue-harvest:slos.backend.availability.thresholdSeconds", "latency SLOs only"),
    ],
)  # fmt: skip
def test_bad_specs_are_refused_naming_the_key(
    slos_key: dict[str, Any], key: str, message: str
) -> None:
    config = make_config("dev", extra={"blue-harvest:slos": slos_key})
    with pytest.raises(ConfigError) as caught:
        rule_groups(config)
    rendered = caught.value.render()
    assert f": {key}: " in rendered
    assert message in rendered


def test_every_bad_spec_is_reported_at_once() -> None:
    config = make_config(
        "dev",
        extra={
            "blue-harvest:slos": {
                "checkout": {"availability": {"objective": 0.9}},
                "backend": {"latency": {"objective": 0.9, "thresholdSeconds": 0.2}},
            }
        },
    )
    with pytest.raises(ConfigError) as caught:
        Settings.from_config(config, source="s.yaml")
    assert len(caught.value.problems) == 2


def test_prod_synthesizes_the_slo_rules_and_promtool_accepts_them(tmp_path: Path) -> None:
    """`estate check` runs `promtool check rules` over out/<stack>/prometheus/rules/: the SLO
    group is one of those files, in the PrometheusRule resources like the others."""
    synth_stacks(["prod"], STACKS, tmp_path)
    path = tmp_path / "prod" / "prometheus" / "rules" / "blue-harvest-slos.yaml"
    assert path.is_file()
    result = promtool.check_rules([path])
    assert result.ok, str(result)
    assert "SUCCESS: 26 rules found" in result.output


def test_records_come_before_the_alerts_that_read_them() -> None:
    group = build(Settings.from_config(stack_config("prod"), source="x"))[-1]
    kinds = [isinstance(r, RecordingRule) for r in group.rules]
    assert kinds == sorted(kinds, reverse=True)
