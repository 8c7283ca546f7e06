"""AlertRule, RecordingRule and RuleGroup refuse, at construction, what Prometheus or the
house rules would refuse later, and name the rule in the error."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from infra.rules import AlertRule, RecordingRule, RuleError, RuleGroup, metric_names

GOOD: dict[str, Any] = {
    "name": "HighErrorRate",
    "expr": 'job:http_request_errors:ratio_rate5m{job="backend"} > 0.05',
    "for_": "5m",
    "severity": "critical",
    "service": "backend",
    "summary": "High error rate detected",
    "description": "{{ $value | humanizePercentage }} of requests failed.",
    "runbook_url": "https://runbooks.example/HighErrorRate",
    "dashboard": "https://grafana.example/d/bh-application-overview/x?viewPanel=2",
}


def alert(**changes: Any) -> AlertRule:
    return AlertRule(**{**GOOD, **changes})


def test_a_good_alert_carries_service_and_severity_labels_and_four_annotations() -> None:
    rule = alert(labels={"team": "sre"})
    assert rule.all_labels == {"team": "sre", "service": "backend", "severity": "critical"}
    assert set(rule.annotations) == {"summary", "description", "runbook_url", "dashboard"}


def test_expressions_are_dedented_and_stripped() -> None:
    rule = alert(expr="\n        up{job='a'}\n          == 0\n    ")
    assert rule.expr == "up{job='a'}\n  == 0"


@pytest.mark.parametrize(
    "expr",
    [
        "sum(rate(http_requests_total[5m])",  # unclosed
        "rate(http_requests_total)",  # rate needs a range
        "histogram_quantiles(0.95, x)",  # no such function
        "up ==",  # dangling operator
    ],
)
def test_broken_promql_is_refused_naming_the_alert(expr: str) -> None:
    with pytest.raises(RuleError, match=r"^HighErrorRate: expr is not valid PromQL") as caught:
        alert(expr=expr)
    assert caught.value.rule == "HighErrorRate"


def test_broken_promql_in_a_record_names_the_record() -> None:
    with pytest.raises(RuleError, match=r"^job:x:rate5m: expr is not valid PromQL"):
        RecordingRule(record="job:x:rate5m", expr="sum(rate(x[5m])")


@pytest.mark.parametrize("expr", ["up[5m]", "rate(x[5m])[1h:1m]", '"text"'])
def test_an_expression_that_is_no_instant_vector_is_refused(expr: str) -> None:
    with pytest.raises(RuleError, match="HighErrorRate: expr is a"):
        alert(expr=expr)


@pytest.mark.parametrize("field", ["summary", "description"])
def test_an_empty_summary_or_description_is_refused(field: str) -> None:
    with pytest.raises(RuleError, match=f"HighErrorRate: {field} is required"):
        alert(**{field: "  "})


@pytest.mark.parametrize("field", ["runbook_url", "dashboard"])
@pytest.mark.parametrize("value", ["", "runbooks/HighErrorRate", "ftp://x"])
def test_a_missing_or_relative_link_is_refused(field: str, value: str) -> None:
    with pytest.raises(RuleError, match=f"HighErrorRate: {field} must be an http"):
        alert(**{field: value})


@pytest.mark.parametrize("field", ["summary", "runbook_url", "dashboard", "severity", "service"])
def test_an_alert_without_a_required_field_cannot_be_built(field: str) -> None:
    given = {k: v for k, v in GOOD.items() if k != field}
    with pytest.raises(TypeError, match=field):
        AlertRule(**given)


def test_a_severity_outside_critical_warning_info_is_refused() -> None:
    with pytest.raises(RuleError, match="severity 'none' is not one of critical, warning, info"):
        alert(severity="none")


@pytest.mark.parametrize("label", ["severity", "service", "alertname"])
def test_labels_may_not_set_what_the_rule_sets_itself(label: str) -> None:
    with pytest.raises(RuleError, match=f"label '{label}' is set by the rule itself"):
        alert(labels={label: "x"})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "high-error-rate"}, "CamelCase"),
        ({"for_": "5 minutes"}, "not a Prometheus duration"),
        ({"service": "Backend"}, "not a service name"),
        ({"labels": {"bad-name": "x"}}, "not a valid Prometheus label name"),
    ],
)
def test_malformed_fields_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        alert(**changes)


def test_rules_are_immutable() -> None:
    rule = alert(labels={"team": "sre"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.severity = "info"  # type: ignore[misc]
    with pytest.raises(TypeError):
        rule.labels["team"] = "other"  # type: ignore[index]


def test_replace_validates_again() -> None:
    with pytest.raises(RuleError, match="HighErrorRate: expr is not valid PromQL"):
        dataclasses.replace(alert(), expr="up ==")


@pytest.mark.parametrize("record", ["http_requests_rate5m", "job:HttpRequests:rate5m", "a:b"])
def test_a_record_not_named_level_metric_operations_is_refused(record: str) -> None:
    with pytest.raises(RuleError, match="level:metric:operations"):
        RecordingRule(record=record, expr="sum(up)")


def test_a_group_refuses_a_record_read_before_it_is_recorded() -> None:
    ratio = RecordingRule(record="job:errors:ratio", expr="job:errors:rate5m / job:reqs:rate5m")
    errors = RecordingRule(record="job:errors:rate5m", expr="sum by (job) (rate(e[5m]))")
    with pytest.raises(RuleError, match="reads job:errors:rate5m, recorded later in the group"):
        RuleGroup(name="recording", rules=(ratio, errors))
    assert RuleGroup(name="recording", rules=(errors, ratio)).records == (errors, ratio)


def test_a_group_refuses_the_same_alert_twice_with_the_same_labels() -> None:
    with pytest.raises(RuleError, match="HighErrorRate"):
        RuleGroup(name="application", rules=(alert(), alert(expr="vector(1)")))
    RuleGroup(name="application", rules=(alert(), alert(service="frontend")))


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"rules": ()}, "has no rules"), ({"interval": "often"}, "not a Prometheus duration")],
)
def test_a_group_refuses_no_rules_or_a_bad_interval(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        RuleGroup(**{"name": "application", "rules": (alert(),), **changes})


def test_metric_names_finds_selectors_inside_functions_and_ranges() -> None:
    expr = 'sum(rate(a_total{job="x"}[5m])) / avg_over_time(b:c:d[1h] offset 5m) or vector(0)'
    assert metric_names(expr) == {"a_total", "b:c:d"}


def test_rules_can_be_hashed_and_compared() -> None:
    assert alert(labels={"a": "1"}) == alert(labels={"a": "1"})
    assert alert(labels={"a": "1"}) != alert(labels={"a": "2"})
    assert len({alert(), alert()}) == 1
