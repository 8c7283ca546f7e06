"""The estate's plan: everything one stack declares, as plain data, before any resource exists.

`plan(config)` builds it from the stack's config, the alerts and the dashboards, and raises one
ConfigError carrying every problem of every capability (a stack file with three mistakes
reports all three), before a single resource is registered. `infra.program.register(plan)`
wires the components from it and never reads the config; `estate synth`, `check` and `diff`
read the same plan. No Pulumi import here (tests/test_architecture.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import SecretStr

from alerts import Settings
from alerts import build as build_rules
from dashboards import build_all
from infra.config import ConfigError, ConfigProblem, EstateConfig
from infra.config.identity import environment_problems
from infra.core import durations, environments
from infra.naming import PROJECT, rule_name
from infra.plan.dashboards import DashboardsPlan, ExternalGrafanaPlan
from infra.plan.kubernetes import KubernetesProviderPlan
from infra.plan.logs import LogsPlan, logs_plan
from infra.plan.loki import LokiPlan, loki_plan
from infra.plan.metrics_store import AmpPlan
from infra.plan.monitoring import MonitoringPlan, chart_plan
from infra.plan.routing import PagerDutyPlan, pagerduty_plan
from infra.plan.rum import RumPlan, rum_plan
from infra.plan.sentry import SentryPlan, sentry_plan
from infra.plan.tracing import TracingPlan, tracing_plan
from infra.plan.workloads import WorkloadSpec, workload_specs
from infra.render.alertmanager import receiver_secret_files
from infra.render.kube_prometheus_stack import RELEASE_NAME, values
from infra.render.prometheus import prometheus_rule
from infra.rules import RuleGroup, iter_alerts, longest_range


@dataclass(frozen=True)
class AwsProviderPlan:
    """The explicit AWS provider: region, wrong-account guard, profile, roles, default tags."""

    region: str
    allowed_account_ids: tuple[str, ...] = ()
    profile: str | None = None
    #: aws:assumeRoles, a credential: it reaches the provider only as a secret.
    assume_roles: SecretStr | None = None
    default_tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EstatePlan:
    environment: str
    #: The workloads' namespace (cluster.namespace) and the observability tools' one.
    workloads_namespace: str
    observability_namespace: str
    monitoring: MonitoringPlan
    dashboards: DashboardsPlan
    workloads: list[WorkloadSpec]
    kubernetes: KubernetesProviderPlan
    aws: AwsProviderPlan | None = None
    logs: LogsPlan | None = None
    pagerduty: PagerDutyPlan | None = None
    tracing: TracingPlan | None = None
    loki: LokiPlan | None = None
    sentry: SentryPlan | None = None
    rum: RumPlan | None = None


T = TypeVar("T")


class _Problems:
    """Every ConfigProblem of every capability, so that one run reports them all."""

    def __init__(self) -> None:
        self.found: list[ConfigProblem] = []

    def add(self, problems: list[ConfigProblem]) -> None:
        # Two capabilities that read the same setting report its problem once.
        self.found += [p for p in problems if p not in self.found]

    def attempt(self, build: Callable[[], T]) -> T | None:
        try:
            return build()
        except ConfigError as exc:
            self.add(exc.problems)
        return None


def plan(config: EstateConfig, *, source: str | None = None) -> EstatePlan:
    """Pure: every capability's plan for the stack. Raises one ConfigError carrying the
    problems of all capabilities (a stack file with three mistakes reports all three)."""
    where = source or f"stacks/Pulumi.{config.environment}.yaml"
    problems = _Problems()
    problems.add(identity_problems(config, source))
    # The alerts' settings (the stack's overrides) are read once: the rules and the dashboards
    # both take them.
    settings = problems.attempt(lambda: Settings.from_config(config, source=where))
    groups = problems.attempt(lambda: build_rules(settings)) if settings else None
    if groups is not None:
        problems.add(critical_for_problems(config, groups))
        problems.add(retention_problems(config, groups))
    workloads = problems.attempt(lambda: workload_specs(config))
    monitoring = problems.attempt(lambda: monitoring_plan(config, groups or []))
    store = monitoring.chart.store if monitoring else None
    dashboards = (
        problems.attempt(lambda: dashboards_plan(config, settings, store)) if settings else None
    )
    if problems.found or workloads is None or monitoring is None or dashboards is None:
        raise ConfigError(where, problems.found)
    return EstatePlan(
        environment=config.environment,
        workloads_namespace=config.cluster.namespace,
        observability_namespace=config.cluster.observability_namespace,
        monitoring=monitoring,
        dashboards=dashboards,
        workloads=workloads,
        kubernetes=KubernetesProviderPlan(
            cluster=config.cluster.name,
            context=config.kube_context,
            kubeconfig=config.kubernetes_kubeconfig,
        ),
        aws=aws_provider_plan(config),
        logs=logs_plan(config),
        pagerduty=pagerduty_plan(config),
        tracing=tracing_plan(config) if config.tracing.enabled else None,
        loki=loki_plan(config) if config.loki.enabled else None,
        sentry=sentry_plan(config),
        rum=rum_plan(config) if config.aws.enabled else None,
    )


def monitoring_plan(config: EstateConfig, groups: list[RuleGroup]) -> MonitoringPlan:
    """The chart's plan, built once, rendered into its values and the receivers' secrets; the
    rule groups rendered into PrometheusRules."""
    metrics = config.metrics
    chart = chart_plan(config, groups)
    return MonitoringPlan(
        namespace=metrics.namespace,
        environment=config.environment,
        chart_version=metrics.chart_version,
        values=values(chart),
        chart=chart,
        receiver_secrets=receiver_secret_files(chart.alertmanager),
        rules=[
            prometheus_rule(
                g, name=rule_name(g.name), namespace=metrics.namespace, release=RELEASE_NAME
            )
            for g in groups
        ],
        groups=tuple(groups),
        scrape_interval=metrics.scrape_interval,
    )


def dashboards_plan(
    config: EstateConfig, settings: Settings, store: AmpPlan | None
) -> DashboardsPlan:
    """The dashboards, reading the alerts' settings and the metrics store's plan already
    built (several clusters on one workspace give every dashboard a `$cluster`)."""
    external = config.grafana.external
    return DashboardsPlan(
        dashboards=build_all(
            config, settings, multi_cluster=store is not None and store.multi_cluster
        ),
        namespace=config.metrics.namespace,
        external=ExternalGrafanaPlan(url=external.url, auth=external.auth) if external else None,
    )


def aws_provider_plan(config: EstateConfig) -> AwsProviderPlan | None:
    if not config.aws.enabled:
        return None
    assert config.aws_region is not None  # EstateConfig refuses aws.enabled without a region
    return AwsProviderPlan(
        region=config.aws_region,
        allowed_account_ids=tuple(config.aws_allowed_account_ids or ()),
        profile=config.aws_profile,
        assume_roles=config.aws_assume_roles,
        default_tags={"project": PROJECT, "environment": config.environment},
    )


def identity_problems(config: EstateConfig, source: str | None) -> list[ConfigProblem]:
    """The stack named by the file `Pulumi.<stack>.yaml` fixes the environment (rules in
    infra.config.identity): `blue-harvest:environment: staging` in the prod stack is refused
    by `estate synth`, `estate check` and `pulumi up` alike, before anything is registered."""
    name = Path(source).name if source else ""
    if not (name.startswith("Pulumi.") and name.endswith(".yaml")):
        return []
    stack = name.removeprefix("Pulumi.").removesuffix(".yaml")
    return [
        ConfigProblem(f"{PROJECT}:environment", message)
        for message in environment_problems(stack, config.environment)
    ]


def critical_for_problems(config: EstateConfig, groups: list[RuleGroup]) -> list[ConfigProblem]:
    """Where critical alerts page, none waits more than an hour before it fires: a `for` of
    520w on ServiceDown would silence the page it exists for."""
    if not config.alerting.page_on_call:
        return []
    limit = environments.PAGING.critical_for
    return [
        ConfigProblem(
            f"{PROJECT}:alerting.overrides.{alert.name}.for",
            f"{alert.for_} is above {limit}: {alert.name} is critical and pages, so it must"
            f" fire within {limit}",
        )
        for alert in iter_alerts(groups)
        if alert.severity == "critical"
        and alert.for_ is not None
        and durations.seconds(alert.for_) > durations.seconds(limit)
    ]


def retention_problems(config: EstateConfig, groups: list[RuleGroup]) -> list[ConfigProblem]:
    """Prometheus keeps at least the longest window any rule reads: an SLO's 30-day budget
    over 15 days of samples would report a 15-day budget as if it were the month's (the rules
    run in the cluster whatever the metrics store)."""
    retention = durations.seconds(config.metrics.retention)
    longest: tuple[float, str] | None = None
    for group in groups:
        for name, expr in [(r.record, r.expr) for r in group.records] + [
            (a.name, a.expr) for a in group.alerts
        ]:
            seconds = longest_range(expr).total_seconds()
            if seconds > retention and (longest is None or seconds > longest[0]):
                longest = (seconds, name)
    if longest is None:
        return []
    days = longest[0] / 86400
    window = f"{days:g}d" if days >= 1 else f"{longest[0] / 3600:g}h"
    return [
        ConfigProblem(
            f"{PROJECT}:metrics.retention",
            f"{config.metrics.retention} is shorter than the {window} the rule {longest[1]}"
            f" reads; allowed: at least {window}",
        )
    ]
