"""The one Pulumi program. `pulumi up` and `estate synth` both run `build(config)`.

`infra.estate.plan` computes everything the stack declares as plain data and raises
ConfigError for any bad input, before a single resource is registered (no Pulumi there);
`register` here turns a plan into resources, and `main` is the real engine's entry.
"""

from __future__ import annotations

import os

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pydantic import SecretStr

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
from infra.config import ConfigError, EstateConfig, load_from_pulumi
from infra.config.model import assume_roles_value
from infra.estate import EstatePlan, plan
from infra.plan.kubernetes import guard
from infra.render.alertmanager import PAGERDUTY_ROUTING_KEY_FILE
from infra.render.kube_prometheus_stack import RELEASE_NAME
from infra.render.workloads import namespace

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
