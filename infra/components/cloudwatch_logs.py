"""CloudWatchLogs: the estate's log groups, their key, metric filters, queries, alarms and IAM."""

from __future__ import annotations

import re

import pulumi
import pulumi_aws as aws

from infra.naming import TYPE_PREFIX, irsa_role_name, log_writer_policy_name, resource_name
from infra.plan.logs import LogsPlan
from infra.render.aws import (
    irsa_trust_policy,
    log_writer_policy,
    logs_kms_key_policy,
    partition_of,
    to_json,
)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class CloudWatchLogs(pulumi.ComponentResource):
    """One call declares the whole CloudWatch logs estate of a stack."""

    log_group_names: pulumi.Output[dict[str, str]]
    log_group_arns: pulumi.Output[dict[str, str]]
    kms_key_arn: pulumi.Output[str | None]
    reports_topic_arn: pulumi.Output[str]
    writer_role_arns: pulumi.Output[dict[str, str]]
    #: service -> its own role's ARN, so a consumer depends on that role alone.
    writer_roles: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: LogsPlan, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:CloudWatchLogs", name, None, opts)
        spec = args.spec
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(
            parent=self, protect=spec.protect, retain_on_delete=spec.protect
        )

        key: aws.kms.Key | None = None
        if spec.encrypt:
            caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
            policy = caller.apply(
                lambda c: to_json(
                    logs_kms_key_policy(
                        account_id=c.account_id,
                        region=args.region,
                        partition=partition_of(c.arn),
                        log_group_prefix=args.group_prefix,
                    )
                )
            )
            key = aws.kms.Key(
                f"{name}-key",
                description=f"Blue Harvest {spec.name_scope} CloudWatch Logs encryption",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=policy,
                tags={**spec.tags, "component": "logs"},
                opts=stateful,
            )
            aws.kms.Alias(
                f"{name}-key-alias",
                name="alias/" + resource_name(spec.name_scope, "logs"),
                target_key_id=key.key_id,
                opts=child,
            )

        groups: dict[str, aws.cloudwatch.LogGroup] = {}
        for g in spec.log_groups:
            groups[g.service] = aws.cloudwatch.LogGroup(
                f"{name}-{g.service}",
                name=g.name,
                retention_in_days=g.retention_days,
                log_group_class=g.group_class,
                kms_key_id=key.arn if key is not None else None,
                tags=g.tags,
                opts=stateful,
            )

        filters: dict[tuple[str, str], aws.cloudwatch.LogMetricFilter] = {}
        for f in spec.metric_filters:
            filters[(f.service, f.kind)] = aws.cloudwatch.LogMetricFilter(
                f"{name}-{f.name}",
                name=f.name,
                log_group_name=groups[f.service].name,
                pattern=f.pattern,
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=f.metric_name,
                    namespace=f.namespace,
                    value="1",
                    default_value="0",
                    unit="Count",
                ),
                opts=child,
            )

        group_names = [groups[s].name for s in sorted(groups)]
        for q in spec.queries:
            aws.cloudwatch.QueryDefinition(
                f"{name}-query-{_slug(q.title)}",
                name=q.name,
                query_string=q.query,
                log_group_names=group_names,
                opts=child,
            )

        topic = aws.sns.Topic(
            f"{name}-reports",
            name=resource_name(spec.name_scope, "log-reports"),
            tags={**spec.tags, "component": "logs"},
            opts=child,
        )
        if spec.report_email:
            aws.sns.TopicSubscription(
                f"{name}-reports-email",
                topic=topic.arn,
                protocol="email",
                endpoint=spec.report_email,
                opts=child,
            )
        else:
            pulumi.log.warn(
                "logs.reportEmail is unset: log alarms notify an SNS topic nobody subscribes to",
                resource=self,
            )

        for a in spec.alarms:
            aws.cloudwatch.MetricAlarm(
                f"{name}-{a.service}-{a.kind}-alarm",
                name=a.name,
                alarm_description=a.description,
                namespace=a.namespace,
                metric_name=a.metric_name,
                statistic="Sum",
                period=a.period_seconds,
                evaluation_periods=a.evaluation_periods,
                threshold=a.threshold,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[topic.arn],
                ok_actions=[topic.arn],
                tags={**spec.tags, "service": a.service},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[filters[(a.service, a.kind)]]),
            )

        roles: dict[str, pulumi.Output[str]] = {}
        for service in sorted(groups):
            policy_doc = groups[service].arn.apply(lambda arn: to_json(log_writer_policy([arn])))
            writer = aws.iam.Policy(
                f"{name}-{service}-writer",
                name=log_writer_policy_name(spec.name_scope, service),
                description=f"Write {service}'s own CloudWatch log streams, nothing else",
                policy=policy_doc,
                tags={**spec.tags, "service": service},
                opts=child,
            )
            if args.oidc_provider_arn is None:
                continue
            role = aws.iam.Role(
                f"{name}-{service}-irsa",
                name=irsa_role_name(spec.name_scope, service),
                description=f"IRSA role of the {service} service account",
                assume_role_policy=to_json(
                    irsa_trust_policy(
                        oidc_provider_arn=args.oidc_provider_arn,
                        namespace=args.namespace,
                        service_account=args.service_accounts[service],
                    )
                ),
                tags={**spec.tags, "service": service},
                opts=child,
            )
            aws.iam.RolePolicyAttachment(
                f"{name}-{service}-writer",
                role=role.name,
                policy_arn=writer.arn,
                opts=child,
            )
            roles[service] = role.arn
        if args.oidc_provider_arn is None:
            pulumi.log.warn(
                "cluster.oidcProviderArn is unset: log writer policies are attached to no role",
                resource=self,
            )

        self.log_group_names = pulumi.Output.all(**{s: g.name for s, g in groups.items()})
        self.log_group_arns = pulumi.Output.all(**{s: g.arn for s, g in groups.items()})
        self.kms_key_arn = key.arn if key is not None else pulumi.Output.from_input(None)
        self.reports_topic_arn = topic.arn
        self.writer_role_arns = pulumi.Output.all(**roles)
        self.writer_roles = roles
        self.register_outputs(
            {
                "logGroupNames": self.log_group_names,
                "logGroupArns": self.log_group_arns,
                "kmsKeyArn": self.kms_key_arn,
                "reportsTopicArn": self.reports_topic_arn,
                "writerRoleArns": self.writer_role_arns,
            }
        )
