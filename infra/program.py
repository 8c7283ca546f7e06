"""The one Pulumi program. `pulumi up` and `estate synth` both run `build(config)`.

`plan` computes everything the stack declares as plain data and raises ConfigError for any
bad input, before a single resource is registered; `register` turns a plan into resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import SecretStr

from alerts import rule_groups
from dashboards import DashboardDoc, build_all
from infra.components.cloudwatch_logs import CloudWatchLogs, CloudWatchLogsArgs
from infra.components.dashboards import (
    ExternalGrafanaArgs,
    GrafanaDashboards,
    GrafanaDashboardsArgs,
)
from infra.components.monitoring_stack import MonitoringStack, MonitoringStackArgs
from infra.components.pagerduty_service import PagerDutyService, PagerDutyServiceArgs
from infra.config import ConfigError, EstateConfig, load_from_pulumi
from infra.render.alertmanager import (
    PAGERDUTY_ROUTING_KEY_FILE,
    alertmanager_config,
    receiver_secret_files,
)
from infra.render.kube_prometheus_stack import RELEASE_NAME, values
from infra.render.monitors import service_monitor
from infra.render.prometheus import prometheus_rule
from infra.spec.logs import LogsSpec, logs_spec


@dataclass(frozen=True)
class EstatePlan:
    """Everything one stack declares, computed and validated, with no Pulumi resource yet."""

    config: EstateConfig
    logs: LogsSpec | None
    chart_values: dict[str, Any]
    receiver_secrets: dict[str, SecretStr]
    rules: list[dict[str, Any]]
    service_monitors: list[dict[str, Any]]
    dashboards: list[DashboardDoc]


def plan(config: EstateConfig, *, source: str | None = None) -> EstatePlan:
    """Pure: specs and rendered documents for the stack (ConfigError on bad input)."""
    metrics = config.metrics
    groups = rule_groups(config, source=source)
    return EstatePlan(
        config=config,
        logs=logs_spec(config) if config.aws.enabled else None,
        chart_values=values(config, alertmanager_config(config)),
        receiver_secrets=receiver_secret_files(config),
        rules=[
            prometheus_rule(
                g, name=f"blue-harvest-{g.name}", namespace=metrics.namespace, release=RELEASE_NAME
            )
            for g in groups
        ],
        service_monitors=[
            service_monitor(
                service=name,
                namespace=config.cluster.namespace,
                release=RELEASE_NAME,
                interval=metrics.scrape_interval,
            )
            for name in sorted(config.services)
        ],
        dashboards=build_all(config),
    )


def register(estate: EstatePlan) -> None:
    """Declare every component the plan turns on, and export the stack outputs."""
    config = estate.config
    pulumi.export("environment", config.environment)
    if estate.logs is not None:
        assert config.aws_region is not None  # EstateConfig refuses aws.enabled without a region
        provider = aws.Provider(
            "aws",
            region=config.aws_region,
            default_tags=aws.ProviderDefaultTagsArgs(
                tags={"project": "blue-harvest", "environment": config.environment}
            ),
        )
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
            opts=pulumi.ResourceOptions(providers={"aws": provider}),
        )
        pulumi.export("logGroupNames", logs.log_group_names)
        pulumi.export("logWriterRoleArns", logs.writer_role_arns)
        pulumi.export("logReportsTopicArn", logs.reports_topic_arn)

    receiver_secrets: dict[str, SecretStr | pulumi.Output[str]] = dict(estate.receiver_secrets)
    pagerduty = config.alerting.pagerduty
    if config.alerting.page_on_call and pagerduty is not None and pagerduty.manage is not None:
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
            service_monitors=estate.service_monitors,
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
    pulumi.export("monitoringRelease", monitoring.release_name)
    pulumi.export("grafanaAdminPassword", monitoring.grafana_admin_password)


def build(config: EstateConfig) -> None:
    register(plan(config))


def main() -> None:
    """Entry point under the real engine (`pulumi up`): config from the engine, then build."""
    try:
        estate = plan(load_from_pulumi())
    except ConfigError as exc:
        # RunError: Pulumi prints the message alone, no traceback, and registers nothing.
        raise pulumi.RunError(exc.render()) from None
    register(estate)
