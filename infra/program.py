"""The one Pulumi program: wires the components for a stack. `pulumi up` and `estate synth`
both run `build(config)`."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.components.cloudwatch_logs import CloudWatchLogs, CloudWatchLogsArgs
from infra.config import EstateConfig, load_from_pulumi
from infra.spec.logs import logs_spec


def build(config: EstateConfig) -> None:
    """Declare every component the stack's config turns on, and export the stack outputs."""
    pulumi.export("environment", config.environment)
    if config.aws.enabled:
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
                spec=logs_spec(config),
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


def main() -> None:
    """Entry point under the real engine (`pulumi up`): config from the engine, then build."""
    build(load_from_pulumi())
