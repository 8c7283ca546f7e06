"""MetricsStore: the Amazon Managed Service for Prometheus workspace and who may use it.

For `metrics.store: amp` (infra/plan/metrics_store.py: AmpPlan). When the plan names no
existing workspace, the component declares one: its own CloudWatch log group (AMP's logging
configuration: rule-evaluation and ingestion errors), the workspace with that logging, and its
retention (`aws.amp.WorkspaceConfiguration`). With `metrics.amp.workspaceId` another stack owns
the workspace and nothing of it is declared here: a second cluster only writes to it.

Either way the component declares two IRSA roles, each trusted by exactly one service account
of the chart in the monitoring namespace, each with one inline policy on that one workspace's
ARN: Prometheus may only `aps:RemoteWrite`, Grafana only the four query actions
(infra/render/aws.py). The roles' names are the plan's, so the chart's service-account
annotations (known at plan time) name these very roles.

The workspace holds the estate's metrics history: like the CloudWatch log groups and their key,
it is protected and retained on delete when `protect` is set (`logs.protect`, required in
prod), and its log group is KMS-encrypted when `encrypt` is (`logs.encrypt`). Pass the AWS
provider through `providers=` as for CloudWatchLogs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.naming import TYPE_PREFIX, resource_name
from infra.plan.metrics_store import AmpPlan
from infra.render.aws import (
    PolicyDocument,
    amp_query_policy,
    amp_remote_write_policy,
    irsa_trust_policy,
    log_group_kms_key_policy,
    to_json,
)


@dataclass(frozen=True)
class MetricsStoreArgs:
    plan: AmpPlan
    #: Protect the workspace, its log group and key, and retain them on delete (logs.protect).
    protect: bool = False
    #: Encrypt the workspace's log group with its own KMS key (logs.encrypt).
    encrypt_logs: bool = False


def _with_slash(endpoint: str) -> str:
    return endpoint if endpoint.endswith("/") else f"{endpoint}/"


class MetricsStore(pulumi.ComponentResource):
    """The remote metrics store one stack's Prometheus writes to and its Grafana reads."""

    workspace_id: pulumi.Output[str]
    workspace_arn: pulumi.Output[str]
    #: The workspace's Prometheus endpoint, ending with `/` (`.../workspaces/<id>/`).
    endpoint: pulumi.Output[str]
    prometheus_role_arn: pulumi.Output[str]
    grafana_role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: MetricsStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:MetricsStore", name, None, opts)
        plan = args.plan
        if plan.existing_workspace_id is None:
            workspace = self._workspace(name, args)
            self.workspace_id = workspace.id
            self.workspace_arn = workspace.arn
            self.endpoint = workspace.prometheus_endpoint.apply(_with_slash)
        else:
            existing = plan.existing_workspace_id
            self.workspace_id = pulumi.Output.from_input(existing)
            self.workspace_arn = pulumi.Output.from_input(plan.workspace_arn(existing))
            self.endpoint = pulumi.Output.from_input(plan.workspace_endpoint(existing))

        self.prometheus_role_arn = self._role(
            f"{name}-prometheus",
            plan,
            role_name=plan.prometheus_role_name,
            service_account=plan.prometheus_service_account,
            description="IRSA role of Prometheus: remote write to the metrics workspace only",
            policy_name="amp-remote-write",
            policy=amp_remote_write_policy,
        )
        self.grafana_role_arn = self._role(
            f"{name}-grafana",
            plan,
            role_name=plan.grafana_role_name,
            service_account=plan.grafana_service_account,
            description="IRSA role of Grafana: query the metrics workspace only",
            policy_name="amp-query",
            policy=amp_query_policy,
        )
        self.register_outputs(
            {
                "workspaceId": self.workspace_id,
                "workspaceArn": self.workspace_arn,
                "endpoint": self.endpoint,
                "prometheusRoleArn": self.prometheus_role_arn,
                "grafanaRoleArn": self.grafana_role_arn,
            }
        )

    def _workspace(self, name: str, args: MetricsStoreArgs) -> aws.amp.Workspace:
        plan = args.plan
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(
            parent=self, protect=args.protect, retain_on_delete=args.protect
        )
        key: aws.kms.Key | None = None
        if args.encrypt_logs:
            key = aws.kms.Key(
                f"{name}-logs-key",
                description=f"Blue Harvest {plan.name_scope} metrics workspace log encryption",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=to_json(
                    log_group_kms_key_policy(
                        account_id=plan.account_id,
                        region=plan.region,
                        partition=plan.partition,
                        log_group_name=plan.log_group_name,
                    )
                ),
                tags=plan.tags,
                opts=stateful,
            )
            aws.kms.Alias(
                f"{name}-logs-key-alias",
                name="alias/" + resource_name(plan.name_scope, "metrics-logs"),
                target_key_id=key.key_id,
                opts=child,
            )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=plan.log_group_name,
            retention_in_days=plan.log_retention_days,
            kms_key_id=key.arn if key is not None else None,
            tags=plan.tags,
            opts=stateful,
        )
        workspace = aws.amp.Workspace(
            f"{name}-workspace",
            alias=plan.workspace_alias,
            # AMP wants the log group's ARN with its `:*` suffix.
            logging_configuration=aws.amp.WorkspaceLoggingConfigurationArgs(
                log_group_arn=log_group.arn.apply(lambda arn: f"{arn.removesuffix(':*')}:*")
            ),
            tags=plan.tags,
            opts=stateful,
        )
        aws.amp.WorkspaceConfiguration(
            f"{name}-retention",
            workspace_id=workspace.id,
            retention_period_in_days=plan.retention_days,
            opts=child,
        )
        return workspace

    def _role(
        self,
        name: str,
        plan: AmpPlan,
        *,
        role_name: str,
        service_account: str,
        description: str,
        policy_name: str,
        policy: Callable[[str], PolicyDocument],
    ) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-irsa",
            name=role_name,
            description=description,
            assume_role_policy=to_json(
                irsa_trust_policy(
                    oidc_provider_arn=plan.oidc_provider_arn,
                    namespace=plan.namespace,
                    service_account=service_account,
                )
            ),
            tags=plan.tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-{policy_name}",
            name=policy_name,
            role=role.name,
            policy=self.workspace_arn.apply(lambda arn: to_json(policy(arn))),
            opts=child,
        )
        arn: pulumi.Output[str] = role.arn
        return arn
