"""The one Pulumi program. `pulumi up` and `estate synth` both run `build(config)`.

`plan` computes everything the stack declares as plain data and raises ConfigError for any
bad input, before a single resource is registered; `register` turns a plan into resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pydantic import SecretStr

from alerts import rule_groups
from dashboards import DashboardDoc, build_all
from infra.components.cloudwatch_logs import CloudWatchLogs, CloudWatchLogsArgs
from infra.components.dashboards import (
    ExternalGrafanaArgs,
    GrafanaDashboards,
    GrafanaDashboardsArgs,
)
from infra.components.log_aggregation import LogAggregation, LogAggregationArgs
from infra.components.monitoring_stack import MonitoringStack, MonitoringStackArgs
from infra.components.observed_workload import ObservedWorkload, ObservedWorkloadArgs
from infra.components.rum import Rum
from infra.components.tracing import Tracing, TracingArgs
from infra.config import ConfigError, ConfigProblem, EstateConfig, load_from_pulumi
from infra.config.identity import environment_problems
from infra.config.model import CRITICAL_FOR_MAX_SECONDS, assume_roles_value, duration_seconds
from infra.naming import ENVIRONMENT_LABEL, PROJECT, rule_name
from infra.plan.alerts import RuleGroup, iter_alerts
from infra.plan.logs import LogsSpec, logs_spec
from infra.plan.loki import LokiPlan, loki_plan
from infra.plan.rum import RumPlan, rum_plan
from infra.plan.sentry import SentryPlan, sentry_plan
from infra.plan.tracing import TracingPlan, tracing_plan
from infra.plan.workloads import WorkloadSpec, workload_specs
from infra.render.alertmanager import (
    PAGERDUTY_ROUTING_KEY_FILE,
    alertmanager_config,
    receiver_secret_files,
)
from infra.render.kube_prometheus_stack import RELEASE_NAME, values
from infra.render.prometheus import prometheus_rule
from infra.render.workloads import namespace


@dataclass(frozen=True)
class EstatePlan:
    """Everything one stack declares, computed and validated, with no Pulumi resource yet."""

    config: EstateConfig
    logs: LogsSpec | None
    chart_values: dict[str, Any]
    receiver_secrets: dict[str, SecretStr]
    rules: list[dict[str, Any]]
    workloads: list[WorkloadSpec]
    loki: LokiPlan | None
    tracing: TracingPlan | None
    sentry: SentryPlan | None
    rum: RumPlan | None
    dashboards: list[DashboardDoc]


def plan(config: EstateConfig, *, source: str | None = None) -> EstatePlan:
    """Pure: specs and rendered documents for the stack (ConfigError on bad input)."""
    metrics = config.metrics
    problems = identity_problems(config, source)
    if problems:
        raise ConfigError(source or f"stacks/Pulumi.{config.environment}.yaml", problems)
    groups = rule_groups(config, source=source)
    problems = critical_for_problems(config, groups)
    if problems:
        raise ConfigError(source or f"stacks/Pulumi.{config.environment}.yaml", problems)
    return EstatePlan(
        config=config,
        logs=logs_spec(config) if config.aws.enabled else None,
        chart_values=values(config, alertmanager_config(config)),
        receiver_secrets=receiver_secret_files(config),
        rules=[
            prometheus_rule(
                g, name=rule_name(g.name), namespace=metrics.namespace, release=RELEASE_NAME
            )
            for g in groups
        ],
        workloads=workload_specs(config),
        loki=loki_plan(config) if config.loki.enabled else None,
        tracing=tracing_plan(config) if config.tracing.enabled else None,
        sentry=sentry_plan(config),
        rum=rum_plan(config),
        dashboards=build_all(config),
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


def _assume_roles(config: EstateConfig) -> pulumi.Output[list[aws.ProviderAssumeRoleArgs]] | None:
    if config.aws_assume_roles is None:
        return None
    roles = [
        aws.ProviderAssumeRoleArgs(**{_ASSUME_ROLE_ARGS[k]: v for k, v in role.items()})
        for role in assume_roles_value(config.aws_assume_roles)
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


def register(estate: EstatePlan) -> None:
    """Declare every component the plan turns on, and export the stack outputs."""
    config = estate.config
    pulumi.export("environment", config.environment)
    aws_opts: pulumi.ResourceOptions | None = None
    writer_roles: dict[str, pulumi.Output[str]] = {}
    if config.aws.enabled:
        assert config.aws_region is not None  # EstateConfig refuses aws.enabled without a region
        provider = aws.Provider(
            "aws",
            region=config.aws_region,
            # The stack's wrong-account guard, profile and roles reach the provider; the
            # roles are a credential and stay secret in state and in the synth.
            allowed_account_ids=list(config.aws_allowed_account_ids or []) or None,
            profile=config.aws_profile,
            assume_roles=_assume_roles(config),
            default_tags=aws.ProviderDefaultTagsArgs(
                tags={"project": PROJECT, "environment": config.environment}
            ),
        )
        aws_opts = pulumi.ResourceOptions(providers={"aws": provider})
    if estate.logs is not None and aws_opts is not None:
        assert config.aws_region is not None
        logs = CloudWatchLogs(
            "logs",
            CloudWatchLogsArgs(
                spec=estate.logs,
                region=config.aws_region,
                group_prefix=config.logs.group_prefix,
                namespace=config.cluster.namespace,
                service_accounts={s: config.service_account(s) for s in config.services},
                oidc_provider_arn=config.cluster.oidc_provider_arn,
            ),
            opts=aws_opts,
        )
        writer_roles = logs.writer_roles
        pulumi.export("logGroupNames", logs.log_group_names)
        pulumi.export("logWriterRoleArns", logs.writer_role_arns)
        pulumi.export("logReportsTopicArn", logs.reports_topic_arn)

    receiver_secrets: dict[str, SecretStr | pulumi.Output[str]] = dict(estate.receiver_secrets)
    pagerduty = config.alerting.pagerduty
    if config.alerting.page_on_call and pagerduty is not None and pagerduty.manage is not None:
        # Imported here: the provider SDK costs a tenth of a second, and most stacks never
        # need it (the same for Sentry below).
        from infra.components.pagerduty_service import PagerDutyService, PagerDutyServiceArgs

        service = PagerDutyService(
            "pagerduty",
            PagerDutyServiceArgs(environment=config.environment, manage=pagerduty.manage),
        )
        receiver_secrets[PAGERDUTY_ROUTING_KEY_FILE] = service.integration_key

    monitoring = MonitoringStack(
        "monitoring",
        MonitoringStackArgs(
            namespace=config.metrics.namespace,
            chart_version=config.metrics.chart_version,
            values=estate.chart_values,
            receiver_secrets=receiver_secrets,
            rules=estate.rules,
        ),
    )
    external = config.grafana.external
    GrafanaDashboards(
        "dashboards",
        GrafanaDashboardsArgs(
            dashboards=estate.dashboards,
            namespace=config.metrics.namespace,
            external=ExternalGrafanaArgs(url=external.url, auth=external.auth)
            if external
            else None,
            depends_on=[monitoring],
        ),
    )
    _register_workloads(estate, monitoring, aws_opts, writer_roles)
    pulumi.export("monitoringRelease", monitoring.release_name)
    pulumi.export("grafanaAdminPassword", monitoring.grafana_admin_password)


def _register_workloads(
    estate: EstatePlan,
    monitoring: MonitoringStack,
    aws_opts: pulumi.ResourceOptions | None,
    writer_roles: dict[str, pulumi.Output[str]],
) -> None:
    """Namespaces, traces, logs, Sentry, RUM, and one ObservedWorkload per service."""
    config = estate.config
    cluster = config.cluster
    env = config.environment
    workloads_ns = _namespace("namespace-workloads", cluster.namespace, "restricted", env)
    observability_ns = _namespace(
        "namespace-observability", cluster.observability_namespace, "privileged", env
    )
    if estate.tracing is not None:
        Tracing(
            "tracing", TracingArgs(plan=estate.tracing, depends_on=[observability_ns, monitoring])
        )
    if estate.loki is not None:
        LogAggregation(
            "loki",
            LogAggregationArgs(plan=estate.loki, depends_on=[observability_ns, monitoring]),
            opts=aws_opts,
        )
    waits: list[pulumi.Resource] = [workloads_ns]
    if estate.sentry is not None:
        from infra.components.error_tracking import ErrorTracking, ErrorTrackingArgs

        sentry = ErrorTracking("sentry", ErrorTrackingArgs(plan=estate.sentry, depends_on=waits))
        waits = [*waits, *sentry.dsn_secrets]
    if estate.rum is not None and aws_opts is not None:
        Rum("rum", estate.rum, opts=aws_opts)
    for spec in estate.workloads:
        # Each ServiceAccount depends on its own role only (not on every service's).
        role = writer_roles.get(spec.service)
        ObservedWorkload(
            spec.service,
            ObservedWorkloadArgs(
                spec=spec,
                monitor_release=RELEASE_NAME,
                scrape_interval=config.metrics.scrape_interval,
                irsa_role_arn=role,
                monitoring_chart=monitoring,
                depends_on=waits,
            ),
        )


def _namespace(
    resource_name: str, name: str, pod_security: str, environment: str
) -> k8s.core.v1.Namespace:
    metadata = namespace(name, pod_security=pod_security)["metadata"]
    # The policies (estate check, the CrossGuard pack) read the environment from this label.
    labels = {**metadata["labels"], ENVIRONMENT_LABEL: environment}
    return k8s.core.v1.Namespace(resource_name, metadata={**metadata, "labels": labels})


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
    register(estate)
