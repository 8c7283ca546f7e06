"""The generated SLO tests (alerts/slo_tests.py) on the real promtool, against the rules the
prod stack renders: every SLO, every burn tier, probe traffic, the three acceptance cases; and
rules with a wrong factor, window or objective fail them."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alerts import build, slo_tests, slos
from alerts.settings import Settings
from alerts.slo_tests import DAY, HOUR, Scenario, documents, seconds, suites
from alerts.slos import TIERS, BurnTier, Slo
from alerts.testing import write_rules
from infra.render.prometheus import to_yaml
from infra.rules import RuleGroup, iter_alerts
from infra.tools import promtool
from tests.conftest import STACKS, stack_config

pytestmark = pytest.mark.slow


def _prod() -> Settings:
    return Settings.from_config(stack_config("prod"), source=str(STACKS / "Pulumi.prod.yaml"))


PROD = _prod()
DOCS = documents(PROD)


def _run(groups: list[RuleGroup], doc: dict[str, Any], tmp_path: Path) -> promtool.PromtoolResult:
    """promtool on `doc` against the SLO group of `groups` alone: the cases check SLO alerts
    only (asserted here), and the other groups' rules would only cost promtool time."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    slo_groups = [g for g in groups if g.name == "slos"]
    names = {a.name for a in iter_alerts(slo_groups)}
    checked = {t["alertname"] for test in doc["tests"] for t in test.get("alert_rule_test", [])}
    assert checked <= names, sorted(checked - names)
    write_rules(slo_groups, tmp_path)
    path = tmp_path / "slo-test.yaml"
    path.write_text(to_yaml(doc), encoding="utf-8")
    return promtool.test_rules([path])


def _slo(sli: str, settings: Settings = PROD) -> Slo:
    return next(s for s in settings.slos if s.sli == sli)


def test_every_slo_gets_every_kind_of_case() -> None:
    assert sorted(DOCS) == sorted(
        f"{name}-{kind}.yaml"
        for name in ("backend-availability", "backend-latency")
        for kind in ("page-tiers", "ticket-tiers", "probes", "acceptance")
    )
    for slo in PROD.slos:
        cases = suites(slo)
        tested = {c.scenario.name.split(": ")[1].split(" fires")[0] for c in cases["page-tiers"]}
        tested |= {c.scenario.name.split(": ")[1].split(" fires")[0] for c in cases["ticket-tiers"]}
        for tier in TIERS:
            assert f"{tier.alert} {tier.long_window}/{tier.short_window}" in tested


@pytest.mark.parametrize("name", sorted(DOCS))
def test_generated_tests_pass_on_the_prod_rules(name: str, tmp_path: Path) -> None:
    result = _run(build(PROD), DOCS[name], tmp_path)
    assert result.ok, str(result)
    assert "SUCCESS" in result.output


def test_the_acceptance_cases_are_named_and_timed() -> None:
    """Fast burn (2% for 99.9%) pages within minutes, slow burn (0.5%) opens a ticket within
    hours and pages nobody, 0.08% raises nothing: the three named cases promtool runs above."""
    availability = _slo("availability")
    fast, slow, inside = suites(availability)["acceptance"]
    assert fast.scenario.name == (
        "backend-availability: fast burn, 2% bad (20x the budget), pages within the hour"
    )
    assert fast.scenario.error_ratio == pytest.approx(0.02, rel=1e-3)
    paged = fast.scenario.length - fast.scenario.start
    assert 40 * 60 <= paged <= 45 * 60  # 14.4/20 of the 1h window: 43.2 minutes
    page = fast.checks[1]
    assert page.alertname == "ErrorBudgetFastBurn"
    [expected] = slo_tests._expected(PROD, fast.scenario, page, TIERS)
    assert expected["exp_labels"]["severity"] == "critical"
    assert expected["exp_labels"]["long_window"] == "1h"
    assert slow.scenario.name == (
        "backend-availability: slow burn, 0.5% bad (5x the budget), a ticket within the day"
        " and no page"
    )
    ticket = slow.checks[1]
    opened = ticket.t - slow.scenario.start
    assert 14 * HOUR <= opened <= 15 * HOUR  # 3/5 of 1d and 1/5 of 3d: 14.4 hours
    [expected] = slo_tests._expected(PROD, slow.scenario, ticket, TIERS)[:1]
    assert expected["exp_labels"]["severity"] == "warning"
    fast_checks = [c for c in slow.checks if c.alertname == "ErrorBudgetFastBurn"]
    assert len(fast_checks) >= 15
    assert all(not slo_tests._expected(PROD, slow.scenario, c, TIERS) for c in fast_checks)
    assert (
        inside.scenario.name == "backend-availability: 0.08% bad (0.8x the budget) raises nothing"
    )
    assert inside.scenario.length > 3 * DAY  # more than the longest window
    assert all(not slo_tests._expected(PROD, inside.scenario, c, TIERS) for c in inside.checks)


@pytest.mark.parametrize("tier", TIERS, ids=lambda t: f"{t.long_window}-{t.short_window}")
def test_each_tier_fires_when_the_workbook_says(tier: BurnTier) -> None:
    """Just above the factor (x1.1), a tier fires one sample either side of start + long window
    x factor / burn, the workbook's detection time."""
    for slo in PROD.slos:
        kind = "page-tiers" if tier.action == "page" else "ticket-tiers"
        case = next(
            c
            for c in suites(slo)[kind]
            if f"{tier.long_window}/{tier.short_window} fires" in c.scenario.name
        )
        sc = case.scenario
        fired = case.checks[1].t
        assert abs(fired - sc.workbook_time(tier)) <= 2 * sc.step + seconds(tier.long_window) / 100


def test_probe_traffic_alone_has_no_sli_at_all() -> None:
    for slo in PROD.slos:
        [case] = suites(slo)["probes"]
        assert not case.scenario.users
        assert case.empty  # every record asserted empty by promtool
        series = slo_tests.input_series(PROD, case.scenario)
        assert series
        assert all(
            'route="/health' in s["series"] or 'route="/metrics"' in s["series"] for s in series
        )


def _wrong(groups_of: Settings, tiers: tuple[BurnTier, ...]) -> list[RuleGroup]:
    """The prod rules with the SLO group rendered from `tiers` instead of the workbook's."""
    groups = [g for g in build(groups_of) if g.name != slos.GROUP]
    wrong = slos.group(groups_of, tiers)
    assert wrong is not None
    return [*groups, wrong]


MUTATIONS = [
    ("page factor 14.4 -> 12", 0, {"factor": 12.0}, "page-tiers"),
    ("page long window 1h -> 2h", 0, {"long_window": "2h"}, "page-tiers"),
    ("page short window 30m -> 1h", 1, {"short_window": "1h"}, "page-tiers"),
    ("ticket factor 1 -> 1.2", 3, {"factor": 1.2}, "ticket-tiers"),
]


@pytest.mark.parametrize(
    ("index", "change", "kind"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS]
)
def test_a_wrong_factor_or_window_fails_the_generated_tests(
    index: int, change: dict[str, Any], kind: str, tmp_path: Path
) -> None:
    tiers = list(TIERS)
    tiers[index] = dataclasses.replace(tiers[index], **change)
    availability = _slo("availability")
    result = _run(_wrong(PROD, tuple(tiers)), DOCS[f"{availability.name}-{kind}.yaml"], tmp_path)
    assert not result.ok, f"promtool accepted rules with {change}"
    # A burn alert's expectation failed (not a file promtool could not read).
    assert "alertname: ErrorBudget" in result.output, result.output


def test_changing_an_objective_moves_rules_and_tests_together(tmp_path: Path) -> None:
    config = stack_config("prod")
    looser = config.model_copy(
        update={
            "slos": {
                **config.slos,
                "backend": {
                    **config.slos["backend"],
                    "availability": config.slos["backend"]["availability"].model_copy(
                        update={"objective": 0.99}
                    ),
                },
            }
        }
    )
    settings = Settings.from_config(looser, source="test")
    availability = _slo("availability", settings)
    assert availability.budget == Decimal("0.01")
    [fast] = [a for a in build(settings)[-1].alerts if a.labels["slo"] == availability.name][:1]
    assert "> 0.144" in fast.expr
    name = f"{availability.name}-page-tiers.yaml"
    new = documents(settings, [availability])[name]
    assert _run(build(settings), new, tmp_path / "new").ok
    # The tests generated for 99.9% fail on the 99% rules: the thresholds moved with the spec.
    old = _run(build(settings), DOCS[name], tmp_path / "old")
    assert not old.ok
    assert "FAILED" in old.output


def test_a_scenario_must_be_whole_steps() -> None:
    with pytest.raises(ValueError, match="whole steps"):
        Scenario(name="x", slo=_slo("availability"), burn=Decimal(1), start=100, length=300)
