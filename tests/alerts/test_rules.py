"""The estate's rules as built from a stack: seed values, overrides, links, refusals."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from alerts import ALERT_NAMES, WATCHDOG, Settings, build, rule_groups
from alerts.recording import records
from infra.catalog import dashboard_refs
from infra.config import ConfigError
from infra.rules import AlertRule, RuleError, iter_alerts, metric_names
from tests.conftest import make_config


def _alerts(**alerting: Any) -> dict[str, AlertRule]:
    """Alerts by name (the backend's rule for the per-service ones)."""
    groups = rule_groups(make_config("dev", alerting=alerting))
    return {a.name: a for a in reversed(list(iter_alerts(groups))) if a.service != "frontend"}


SEED = [
    # name, group, severity, for, threshold in expr
    ("HighErrorRate", "application", "critical", "5m", "> 0.05"),
    ("SlowResponseTime", "application", "warning", "10m", "> 2"),
    ("DatabasePoolExhaustion", "application", "warning", "5m", "> 0.9"),
    ("LowCacheHitRate", "application", "info", "15m", "< 0.5"),
    # The seed's `up == 0` per instance became the share of replicas up, per namespace (0:
    # none left); docs/alerting.md lists the deviations.
    ("ServiceDown", "application", "critical", "1m", "<= 0"),
    ("SignupSpike", "business", "warning", "10m", "> 3 *"),
    ("NoPostsCreated", "business", "info", "1h", "< 1"),
]


@pytest.mark.parametrize(("name", "group", "severity", "for_", "comparison"), SEED)
def test_the_seed_alerts_keep_their_group_severity_window_and_threshold(
    name: str, group: str, severity: str, for_: str, comparison: str
) -> None:
    groups = {g.name: g for g in rule_groups(make_config("dev"))}
    alert = next(a for a in groups[group].alerts if a.name == name)
    assert (alert.severity, alert.for_) == (severity, for_)
    assert comparison in alert.expr


def test_groups_keep_the_seed_intervals_and_come_recording_first() -> None:
    groups = rule_groups(make_config("dev"))
    assert [(g.name, g.interval) for g in groups] == [
        ("recording", "30s"),
        ("application", "30s"),
        ("business", "1m"),
        ("platform", "30s"),
        ("pipeline", "30s"),
    ]


def test_slow_response_time_reads_the_job_wide_p95_not_one_per_series() -> None:
    groups = rule_groups(make_config("dev"))
    buckets = next(r for g in groups for r in g.records if r.record.startswith("job_le:"))
    assert buckets.expr.startswith(
        "sum by (cluster, namespace, job, le) (rate(http_request_duration_seconds_bucket"
    )
    assert 'quantile="0.95"' in _alerts()["SlowResponseTime"].expr


def test_every_alert_reads_only_metrics_that_are_scraped_or_recorded() -> None:
    groups = rule_groups(make_config("dev"))
    recorded = {r.record for g in groups for r in g.records}
    for alert in iter_alerts(groups):
        derived = {n for n in metric_names(alert.expr) if ":" in n}
        assert derived <= recorded, alert.name


def test_per_service_alerts_cover_every_service_that_serves_metrics() -> None:
    # The seed's frontend serves no /metrics: nothing to be down, nothing to page about.
    scraped = make_config("dev", services={"frontend": {"metrics": {"enabled": True}}})
    for config, jobs in ((make_config("dev"), ["backend"]), (scraped, ["backend", "frontend"])):
        alerts = list(iter_alerts(rule_groups(config)))
        # absent() cannot aggregate: one ScrapeTargetMissing per service.
        assert sorted(a.service for a in alerts if a.name == "ScrapeTargetMissing") == jobs
        # One rule each over every service's targets, naming the service from the job.
        for name in ("ServiceDown", "ServiceReplicaDown"):
            [shared] = [a for a in alerts if a.name == name]
            assert shared.service == "{{ $labels.job }}"
            assert shared.service_from_label
            assert f'up{{job=~"{"|".join(jobs)}"}}' in shared.expr


def test_a_backend_without_metrics_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"blue-harvest:services\.backend\.metrics\.enabled"):
        rule_groups(make_config("dev", services={"backend": {"metrics": {"enabled": False}}}))


def test_every_alert_links_its_runbook_and_a_known_dashboard_panel() -> None:
    groups = rule_groups(
        make_config(
            "dev",
            alerting={"runbookBaseUrl": "https://rb.example/x/", "grafanaUrl": "https://g.example"},
        )
    )
    panels = {
        f"https://g.example/d/{d.uid}/{d.slug}?viewPanel={p.id}"
        for d in dashboard_refs.DASHBOARDS
        for p in d.panels
    }
    for alert in iter_alerts(groups):
        assert alert.runbook_url == f"https://rb.example/x/{alert.name}"
        assert alert.dashboard in panels, alert.name


def test_watchdog_always_fires_and_is_routed_by_name_not_by_a_severity_of_its_own() -> None:
    watchdog = _alerts()[WATCHDOG]
    assert watchdog.expr == "vector(1)"
    assert watchdog.for_ is None
    assert watchdog.all_labels == {"service": "prometheus", "severity": "info"}


def test_an_override_changes_threshold_and_for_of_that_alert_only() -> None:
    alerts = _alerts(overrides={"HighErrorRate": {"threshold": 0.13, "for": "7m"}})
    assert "} > 0.13\n" in alerts["HighErrorRate"].expr
    assert alerts["HighErrorRate"].for_ == "7m"
    assert "} > 2\n" in alerts["SlowResponseTime"].expr


def test_a_for_only_override_keeps_the_threshold() -> None:
    alerts = _alerts(overrides={"SignupSpike": {"for": "17m"}})
    assert alerts["SignupSpike"].for_ == "17m"
    assert "> 3 * avg_over_time" in alerts["SignupSpike"].expr


def test_a_for_override_applies_to_every_service_of_a_per_service_alert() -> None:
    groups = rule_groups(make_config("dev", alerting={"overrides": {"ServiceDown": {"for": "3m"}}}))
    assert {a.for_ for a in iter_alerts(groups) if a.name == "ServiceDown"} == {"3m"}


def test_an_override_naming_an_unknown_alert_is_refused_with_the_known_names() -> None:
    config = make_config("dev", alerting={"overrides": {"HighErorRate": {"threshold": 0.1}}})
    with pytest.raises(ConfigError) as caught:
        rule_groups(config, source="stacks/Pulumi.dev.yaml")
    [problem] = caught.value.problems
    assert caught.value.source == "stacks/Pulumi.dev.yaml"
    assert problem.key == "blue-harvest:alerting.overrides.HighErorRate"
    for name in set(ALERT_NAMES) - {WATCHDOG}:
        assert name in problem.message
    assert str(caught.value).startswith(
        "stacks/Pulumi.dev.yaml: blue-harvest:alerting.overrides.HighErorRate: no alert named"
    )


def test_the_default_source_names_the_environment_stack_file() -> None:
    config = make_config("staging", alerting={"overrides": {"Nope": {"for": "1m"}}})
    with pytest.raises(ConfigError, match=r"^stacks/Pulumi\.staging\.yaml: "):
        rule_groups(config)


@pytest.mark.parametrize(
    ("override", "key", "message"),
    [
        (
            {"ServiceReplicaDown": {"threshold": 1}},
            "ServiceReplicaDown.threshold",
            "ServiceReplicaDown has no threshold; only `for` can be overridden",
        ),
        ({"ServiceDown": {"threshold": 1}}, "ServiceDown.threshold", "1 is out of range"),
        ({"ServiceDown": {"threshold": -0.1}}, "ServiceDown.threshold", "-0.1 is out of range"),
        ({"HighErrorRate": {"threshold": 5}}, "HighErrorRate.threshold", "5 is out of range"),
        ({"SignupSpike": {"threshold": 0.5}}, "SignupSpike.threshold", "above 1"),
        ({"Watchdog": {"for": "5m"}}, "Watchdog", "takes no overrides"),
    ],
)
def test_an_override_the_alert_cannot_take_is_refused(
    override: dict[str, Any], key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        rule_groups(make_config("dev", alerting={"overrides": override}))
    [problem] = caught.value.problems
    assert problem.key == f"blue-harvest:alerting.overrides.{key}"
    assert message in problem.message


def test_every_bad_override_is_reported_at_once() -> None:
    overrides = {"A": {"for": "1m"}, "B": {"for": "1m"}, "LowCacheHitRate": {"threshold": 2}}
    with pytest.raises(ConfigError) as caught:
        rule_groups(make_config("dev", alerting={"overrides": overrides}))
    assert len(caught.value.problems) == 3


def test_a_stack_without_a_backend_is_refused() -> None:
    base = make_config("local")
    config = base.model_copy(update={"services": {"web": base.services["frontend"]}})
    with pytest.raises(ConfigError, match=r"blue-harvest:services: has no `backend` service"):
        rule_groups(config)


def test_rules_follow_the_settings_selectors_and_window() -> None:
    settings = Settings(backend="api", services=("api",), rate_window="2m")
    groups = build(settings)
    exprs = "\n".join(r.expr for g in groups for r in g.rules)
    assert 'job="backend"' not in exprs
    assert "[5m]" not in exprs
    assert records(settings).requests == "job:http_requests:rate2m"
    assert 'rate(http_requests_total{job="api",route!~"/health|/health/.*|/metrics"}[2m])' in exprs


def test_alert_names_are_the_tuned_alerts() -> None:
    groups = rule_groups(make_config("dev"))
    assert {a.name for a in iter_alerts(groups)} == set(ALERT_NAMES)


def test_slow_response_time_refuses_a_quantile_that_is_not_recorded() -> None:
    with pytest.raises(RuleError, match=r"SlowResponseTime: quantile 0\.9 is not recorded"):
        build(Settings(alert_quantile=0.9))


def test_the_slis_leave_out_probe_and_scrape_routes_from_one_place() -> None:
    settings = Settings(route_label="path", excluded_routes=("/livez", "/metrics"))
    exprs = {r.record: r.expr for g in build(settings) for r in g.records}
    user = 'path!~"/livez|/metrics"'
    r = records(settings)
    assert user in exprs[r.requests]
    assert user in exprs[r.errors]
    assert user in exprs[r.latency_buckets]
    assert "/health" not in "\n".join(exprs.values())


@pytest.mark.parametrize("name", ["HighErrorRate", "SlowResponseTime"])
def test_user_facing_alerts_judge_only_above_the_traffic_floor(name: str) -> None:
    alerts = {a.name: a for a in iter_alerts(build(Settings(min_request_rate=0.25)))}
    assert alerts[name].expr.endswith(
        'and on (cluster, namespace, job)\njob:http_requests:rate5m{job="backend"} >= 0.25'
    )


def test_service_down_pages_on_the_share_of_replicas_up_per_namespace() -> None:
    groups = rule_groups(
        make_config("dev", alerting={"overrides": {"ServiceDown": {"threshold": 0.5}}})
    )
    [down] = [a for a in iter_alerts(groups) if a.name == "ServiceDown"]
    assert down.expr == (
        'sum by (cluster, namespace, job) (up{job=~"backend"})\n/\n'
        'count by (cluster, namespace, job) (up{job=~"backend"})\n<= 0.5'
    )
    assert "50% or fewer of its replicas are up" in down.description
    [replica] = [a for a in iter_alerts(groups) if a.name == "ServiceReplicaDown"]
    assert (replica.severity, replica.for_, replica.expr) == (
        "warning",
        "5m",
        'up{job=~"backend"} == 0',
    )


def test_metric_absent_covers_every_series_an_alert_reads_once_per_service() -> None:
    alerts = [a for a in iter_alerts(build(Settings())) if a.name == "MetricAbsent"]
    by_metric = {a.labels["metric"]: a for a in alerts}
    assert sorted(by_metric) == [
        "cache_hits_total",
        "cache_misses_total",
        "db_pool_active_connections",
        "db_pool_max_connections",
        "http_request_duration_seconds_bucket",
        "http_requests_total",
        "posts_created_total",
        "user_signups_total",
    ]
    assert {a.service for a in alerts} == {"backend"}
    # Never a page: warning when a critical or warning alert reads it, info when only infos.
    assert {m for m, a in by_metric.items() if a.severity == "info"} == {
        "cache_hits_total",
        "cache_misses_total",
        "posts_created_total",
    }
    assert 'le="+Inf"' in by_metric["http_request_duration_seconds_bucket"].expr
    assert "[1h]" in by_metric["posts_created_total"].expr
    assert "HighErrorRate, SlowResponseTime" in by_metric["http_requests_total"].description


def test_an_alert_on_a_metric_nobody_exports_is_refused() -> None:
    from alerts import platform
    from infra.rules import RuleGroup

    rule = dataclasses.replace(
        _alerts()["HighErrorRate"], expr='http_requests_totl{job="backend"} > 1'
    )
    with pytest.raises(RuleError, match="HighErrorRate: reads http_requests_totl, which no"):
        platform.dependencies([RuleGroup(name="application", rules=(rule,))])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"route_label": "re-route"}, "is no label name"),
        ({"excluded_routes": ()}, "at least one non-empty route"),
        ({"min_request_rate": -1.0}, "at least 0"),
        ({"absence_lookback": {"posts_created_total": "an hour"}}, "not a Prometheus duration"),
    ],
)
def test_settings_refuse_a_knob_no_rule_could_use(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        Settings(**changes)


def test_the_traffic_floor_is_a_stack_key() -> None:
    groups = rule_groups(make_config("dev", alerting={"minRequestRate": 0.5}))
    [high] = [a for a in iter_alerts(groups) if a.name == "HighErrorRate"]
    assert high.expr.endswith('job:http_requests:rate5m{job="backend"} >= 0.5')


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_a_traffic_floor_that_is_not_a_finite_rate_is_refused(bad: float) -> None:
    with pytest.raises(ConfigError, match=r"alerting\.minRequestRate"):
        make_config("dev", alerting={"minRequestRate": bad})
