"""The logs spec derived from config: names, patterns, metrics, the seed's five queries."""

from __future__ import annotations

from infra.plan.logs import filter_pattern, logs_spec
from tests.conftest import make_config


def test_log_groups_are_named_as_the_seed_does() -> None:
    spec = logs_spec(make_config("prod"))
    assert [g.name for g in spec.log_groups] == ["/blue-harvest/backend", "/blue-harvest/frontend"]


def test_log_groups_carry_service_environment_and_managed_by_tags() -> None:
    (backend, _) = logs_spec(make_config("staging")).log_groups
    assert backend.tags == {
        "service": "backend",
        "environment": "staging",
        "managed-by": "pulumi",
        "project": "blue-harvest",
    }


def test_group_prefix_is_configurable() -> None:
    spec = logs_spec(make_config("dev", logs={"groupPrefix": "/bh/dev"}))
    assert spec.log_groups[0].name == "/bh/dev/backend"


def test_metric_filters_follow_each_services_log_filters() -> None:
    spec = logs_spec(make_config("dev"))
    assert [(f.service, f.kind, f.metric_name) for f in spec.metric_filters] == [
        ("backend", "errors", "BackendErrorCount"),
        ("backend", "failedLogins", "BackendFailedLoginCount"),
        ("backend", "slowRequests", "BackendSlowRequestCount"),
        ("frontend", "errors", "FrontendErrorCount"),
        ("frontend", "slowRequests", "FrontendSlowRequestCount"),
    ]
    assert {f.namespace for f in spec.metric_filters} == {"BlueHarvest/dev"}


def test_filter_patterns_match_the_seed_log_fields() -> None:
    assert filter_pattern("errors", 1000) == '{ $.level = "error" }'
    assert filter_pattern("slowRequests", 1000) == (
        '{ ($.message = "Request completed") && ($.duration > 1000) }'
    )
    assert filter_pattern("failedLogins", 1000) == '{ $.message = "Login failed*" }'


def test_slow_request_threshold_flows_into_filter_and_query() -> None:
    spec = logs_spec(make_config("dev", logs={"slowRequestMs": 1500}))
    slow = next(f for f in spec.metric_filters if f.kind == "slowRequests")
    assert "$.duration > 1500" in slow.pattern
    assert any("filter duration > 1500" in q.query for q in spec.queries)


def test_the_seeds_five_queries_are_saved_in_a_folder_per_environment() -> None:
    spec = logs_spec(make_config("prod"))
    assert len(spec.queries) == 5
    assert all(q.name.startswith("blue-harvest/prod/") for q in spec.queries)
    errors = spec.queries[0]
    assert errors.query.splitlines() == [
        "fields @timestamp, level, message, error, requestId",
        '| filter level = "error"',
        "| sort @timestamp desc",
        "| limit 100",
    ]


def test_alarms_exist_for_errors_and_slow_requests_only() -> None:
    spec = logs_spec(make_config("prod"))
    assert sorted((a.service, a.kind) for a in spec.alarms) == [
        ("backend", "errors"),
        ("backend", "slowRequests"),
        ("frontend", "errors"),
        ("frontend", "slowRequests"),
    ]


def test_alarm_thresholds_come_from_config() -> None:
    config = make_config(
        "dev",
        logs={
            "alarms": {"errors": {"threshold": 13, "periodSeconds": 120, "evaluationPeriods": 3}}
        },
    )
    alarm = next(a for a in logs_spec(config).alarms if a.kind == "errors")
    assert (alarm.threshold, alarm.period_seconds, alarm.evaluation_periods) == (13, 120, 3)
    assert alarm.name == "blue-harvest-dev-backend-errors"
