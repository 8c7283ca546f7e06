"""The one Pulumi program. `pulumi up` and `estate synth` both run `build(config)`.

`plan` computes everything the stack declares as plain data and raises ConfigError for any
bad input, before a single resource is registered; `register` turns a plan into resources.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pydantic import SecretStr

from alerts import Settings
from alerts import build as build_rules
from dashboards import build_all
from infra.components.cloudwatch_logs import CloudWatchLogs
from infra.components.dashboards import (
    ExternalGrafanaArgs,
    GrafanaDashboards,
    GrafanaDashboardsArgs,
)
from infra.components.log_aggregation import LogAggregation, LogAggregationArgs
from infra.components.metrics_store import MetricsStore, MetricsStoreArgs
from infra.components.monitoring_stack import MonitoringStack, MonitoringStackArgs
from infra.components.observed_workload import ObservedWorkload, ObservedWorkloadArgs
from infra.components.rum import Rum
from infra.components.tracing import Tracing, TracingArgs
from infra.config import ConfigError, ConfigProblem, EstateConfig, load_from_pulumi
from infra.config.identity import environment_problems
from infra.config.model import CRITICAL_FOR_MAX_SECONDS, assume_roles_value, duration_seconds
from infra.naming import PROJECT, rule_name
from infra.plan.alerts import RuleGroup, iter_alerts, longest_range
from infra.plan.dashboards import DashboardsPlan, ExternalGrafanaPlan
from infra.plan.estate import AwsProviderPlan, EstatePlan
from infra.plan.kubernetes import KubernetesProviderPlan, guard
from infra.plan.logs import logs_plan
from infra.plan.loki import loki_plan
from infra.plan.monitoring import MonitoringPlan, chart_plan
from infra.plan.routing import pagerduty_plan
from infra.plan.rum import rum_plan
from infra.plan.sentry import sentry_plan
from infra.plan.tracing import tracing_plan
from infra.plan.workloads import workload_specs
from infra.render.alertmanager import PAGERDUTY_ROUTING_KEY_FILE, receiver_secret_files
from infra.render.kube_prometheus_stack import RELEASE_NAME, values
from infra.render.prometheus import prometheus_rule
from infra.render.workloads import namespace

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
    dashboards = problems.attempt(lambda: dashboards_plan(config, settings)) if settings else None
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


def dashboards_plan(config: EstateConfig, settings: Settings) -> DashboardsPlan:
    external = config.grafana.external
    return DashboardsPlan(
        dashboards=build_all(config, settings),
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


_ASSUME_ROLE_ARGS = {
    "roleArn": "role_arn",
    "sessionName": "session_name",
    "externalId": "external_id",
    "duration": "duration",
    "policy": "policy",
    "policyArns": "policy_arns",
    "sourceIdentity": "source_identity",
    "tags": "tags",
    "transitiveTagKeys": "transitive_tag_keys",
}


def _assume_roles(
    value: SecretStr | None,
) -> pulumi.Output[list[aws.ProviderAssumeRoleArgs]] | None:
    if value is None:
        return None
    roles = [
        aws.ProviderAssumeRoleArgs(**{_ASSUME_ROLE_ARGS[k]: v for k, v in role.items()})
        for role in assume_roles_value(value)
    ]
    return pulumi.Output.secret(roles)


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
    return [
        ConfigProblem(
            f"{PROJECT}:alerting.overrides.{alert.name}.for",
            f"{alert.for_} is above 1h: {alert.name} is critical and pages, so it must fire"
            " within an hour",
        )
        for alert in iter_alerts(groups)
        if alert.severity == "critical"
        and alert.for_ is not None
        and duration_seconds(alert.for_) > CRITICAL_FOR_MAX_SECONDS
    ]


def retention_problems(config: EstateConfig, groups: list[RuleGroup]) -> list[ConfigProblem]:
    """Prometheus keeps at least the longest window any rule reads: an SLO's 30-day budget
    over 15 days of samples would report a 15-day budget as if it were the month's (the rules
    run in the cluster whatever the metrics store)."""
    retention = duration_seconds(config.metrics.retention)
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


def register(estate: EstatePlan) -> None:
    """Declare every component the plan turns on, and export the stack outputs. Reads the
    plan only, never the config."""
    pulumi.export("environment", estate.environment)
    # Every Kubernetes resource goes through this provider (components pass it to their
    # children), never through the default one that follows the current kubeconfig context.
    kube = k8s.Provider(
        "kubernetes",
        context=estate.kubernetes.context,
        kubeconfig=estate.kubernetes.kubeconfig,
    )
    kube_opts = pulumi.ResourceOptions(providers={"kubernetes": kube})
    aws_opts: pulumi.ResourceOptions | None = None
    writer_roles: dict[str, pulumi.Output[str]] = {}
    if estate.aws is not None:
        provider = aws.Provider(
            "aws",
            region=estate.aws.region,
            # The stack's wrong-account guard, profile and roles reach the provider; the
            # roles are a credential and stay secret in state and in the synth.
            allowed_account_ids=list(estate.aws.allowed_account_ids) or None,
            profile=estate.aws.profile,
            assume_roles=_assume_roles(estate.aws.assume_roles),
            default_tags=aws.ProviderDefaultTagsArgs(tags=estate.aws.default_tags),
        )
        aws_opts = pulumi.ResourceOptions(providers={"aws": provider})
    # Components pass their providers to their children: the stack's own, never a default.
    opts = pulumi.ResourceOptions.merge(kube_opts, aws_opts)
    if estate.logs is not None and aws_opts is not None:
        logs = CloudWatchLogs("logs", estate.logs, opts=opts)
        writer_roles = logs.writer_roles
        pulumi.export("logGroupNames", logs.log_group_names)
        pulumi.export("logWriterRoleArns", logs.writer_role_arns)
        pulumi.export("logReportsTopicArn", logs.reports_topic_arn)

    receiver_outputs: dict[str, pulumi.Output[str]] = {}
    if estate.pagerduty is not None:
        # Imported here: the provider SDK costs a tenth of a second, and most stacks never
        # need it (the same for Sentry below).
        from infra.components.pagerduty_service import PagerDutyService

        service = PagerDutyService("pagerduty", estate.pagerduty)
        receiver_outputs[PAGERDUTY_ROUTING_KEY_FILE] = service.integration_key

    store = _register_metrics_store(estate, aws_opts, opts)
    monitoring = MonitoringStack(
        "monitoring",
        MonitoringStackArgs(
            plan=estate.monitoring,
            receiver_outputs=receiver_outputs,
            store_endpoint=store.endpoint if store else None,
            depends_on=[store] if store else [],
        ),
        opts=opts,
    )
    dashboards = estate.dashboards
    external = dashboards.external
    GrafanaDashboards(
        "dashboards",
        GrafanaDashboardsArgs(
            dashboards=dashboards.dashboards,
            namespace=dashboards.namespace,
            external=ExternalGrafanaArgs(url=external.url, auth=external.auth)
            if external
            else None,
            depends_on=[monitoring],
        ),
        opts=opts,
    )
    _register_workloads(estate, monitoring, aws_opts, opts, writer_roles)
    pulumi.export("monitoringRelease", monitoring.release_name)
    pulumi.export("grafanaAdminPassword", monitoring.grafana_admin_password)


def _register_metrics_store(
    estate: EstatePlan, aws_opts: pulumi.ResourceOptions | None, opts: pulumi.ResourceOptions
) -> MetricsStore | None:
    """metrics.store amp: the workspace (or an existing one's roles) before the chart that
    writes to it. Guarded like the log groups: logs.protect and logs.encrypt."""
    amp = estate.monitoring.chart.store
    if amp is None:
        return None
    if aws_opts is None:  # EstateConfig refuses amp without aws.enabled
        raise ValueError("metrics.store amp needs the AWS provider")
    logs = estate.logs.spec if estate.logs is not None else None
    store = MetricsStore(
        "metrics-store",
        MetricsStoreArgs(
            plan=amp,
            protect=logs.protect if logs else False,
            encrypt_logs=logs.encrypt if logs else False,
        ),
        opts=opts,
    )
    pulumi.export("metricsWorkspaceId", store.workspace_id)
    pulumi.export("metricsWorkspaceArn", store.workspace_arn)
    pulumi.export("metricsEndpoint", store.endpoint)
    return store


def _register_workloads(
    estate: EstatePlan,
    monitoring: MonitoringStack,
    aws_opts: pulumi.ResourceOptions | None,
    opts: pulumi.ResourceOptions,
    writer_roles: dict[str, pulumi.Output[str]],
) -> None:
    """Namespaces, traces, logs, Sentry, RUM, and one ObservedWorkload per service."""
    env = estate.environment
    workloads_ns = _namespace(
        "namespace-workloads", estate.workloads_namespace, "restricted", env, opts
    )
    observability_ns = _namespace(
        "namespace-observability", estate.observability_namespace, "privileged", env, opts
    )
    if estate.tracing is not None:
        Tracing(
            "tracing",
            TracingArgs(plan=estate.tracing, depends_on=[observability_ns, monitoring]),
            opts=opts,
        )
    if estate.loki is not None:
        LogAggregation(
            "loki",
            LogAggregationArgs(plan=estate.loki, depends_on=[observability_ns, monitoring]),
            opts=opts,
        )
    waits: list[pulumi.Resource] = [workloads_ns]
    if estate.sentry is not None:
        from infra.components.error_tracking import ErrorTracking, ErrorTrackingArgs

        sentry = ErrorTracking(
            "sentry", ErrorTrackingArgs(plan=estate.sentry, depends_on=waits), opts=opts
        )
        waits = [*waits, *sentry.dsn_secrets]
    if estate.rum is not None and aws_opts is not None:
        Rum("rum", estate.rum, opts=opts)
    for spec in estate.workloads:
        # Each ServiceAccount depends on its own role only (not on every service's).
        role = writer_roles.get(spec.service)
        ObservedWorkload(
            spec.service,
            ObservedWorkloadArgs(
                spec=spec,
                monitor_release=RELEASE_NAME,
                scrape_interval=estate.monitoring.scrape_interval,
                irsa_role_arn=role,
                monitoring_chart=monitoring,
                depends_on=waits,
            ),
            opts=opts,
        )


def _namespace(
    resource_name: str,
    name: str,
    pod_security: str,
    environment: str,
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Namespace:
    metadata = namespace(name, environment=environment, pod_security=pod_security)["metadata"]
    return k8s.core.v1.Namespace(resource_name, metadata=metadata, opts=opts)


def build(config: EstateConfig) -> None:
    register(plan(config))


def main() -> None:
    """Entry point under the real engine (`pulumi up`): config from the engine, then build."""
    try:
        config = load_from_pulumi()
        estate = plan(config, source=f"stacks/Pulumi.{pulumi.get_stack()}.yaml")
    except ConfigError as exc:
        # RunError: Pulumi prints the message alone, no traceback, and registers nothing.
        raise pulumi.RunError(exc.render()) from None
    # Under the real engine only (estate synth never reads a kubeconfig): the current or
    # named context must point at the stack's cluster before anything is registered.
    problem = guard(estate.kubernetes, os.environ)
    if problem is not None:
        raise pulumi.RunError(f"stacks/Pulumi.{pulumi.get_stack()}.yaml: {problem}")
    register(estate)
