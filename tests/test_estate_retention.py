"""Prometheus keeps at least the longest window a rule reads (infra.program.retention_problems)."""

from __future__ import annotations

import pytest

from alerts import rule_groups
from infra.config import ConfigError
from infra.estate import plan, retention_problems
from infra.rules import longest_range
from tests.conftest import STACK_NAMES, make_config, stack_config


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_repository_stack_keeps_what_its_rules_read(stack: str) -> None:
    config = stack_config(stack)
    assert retention_problems(config, rule_groups(config)) == []


def test_a_thirty_day_slo_over_fifteen_days_of_samples_is_refused() -> None:
    config = make_config("staging", metrics={"retention": "15d"})
    with pytest.raises(ConfigError) as caught:
        plan(config)
    (problem,) = [p for p in caught.value.problems if p.key.endswith("metrics.retention")]
    assert "15d is shorter than the 30d" in problem.message
    assert "slo:" in problem.message
    assert "allowed: at least 30d" in problem.message


def test_without_slos_a_week_is_enough() -> None:
    config = make_config("dev")
    groups = rule_groups(config)
    exprs = [r.expr for g in groups for r in g.records] + [a.expr for g in groups for a in g.alerts]
    longest = max(longest_range(expr) for expr in exprs)
    assert longest.days < 7
    assert retention_problems(config, rule_groups(config)) == []


def test_longest_range_counts_offsets_and_subqueries() -> None:
    assert longest_range("rate(x[5m])").total_seconds() == 300
    assert longest_range("avg_over_time(x[30d] offset 1h)").total_seconds() == 30 * 86400 + 3600
    assert longest_range("max_over_time(rate(x[5m])[2h:1m])").total_seconds() == 7200
    assert longest_range("up").total_seconds() == 0
