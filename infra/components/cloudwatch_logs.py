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
        # Not `_name`: the SDK's Resource keeps its own.
        self._prefix, self._plan = name, args
        key = self._key() if args.spec.encrypt else None
        groups = self._groups(key)
        filters = self._filters(groups)
        self._queries(groups)
        topic = self._reports_topic()
        self._alarms(filters, topic)
        roles = self._writers(groups)

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

    @property
    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    @property
    def _stateful(self) -> pulumi.ResourceOptions:
        """What holds logs, and the key that reads them: protected and retained where the
        plan says so (prod)."""
        protect = self._plan.spec.protect
        return pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect)

    def _key(self) -> aws.kms.Key:
        """The customer-managed key the log groups are encrypted with, and its alias."""
        name, args, spec = self._prefix, self._plan, self._plan.spec
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
            opts=self._stateful,
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name="alias/" + resource_name(spec.name_scope, "logs"),
            target_key_id=key.key_id,
            opts=self._child,
        )
        return key

    def _groups(self, key: aws.kms.Key | None) -> dict[str, aws.cloudwatch.LogGroup]:
        return {
            g.service: aws.cloudwatch.LogGroup(
                f"{self._prefix}-{g.service}",
                name=g.name,
                retention_in_days=g.retention_days,
                log_group_class=g.group_class,
                kms_key_id=key.arn if key is not None else None,
                tags=g.tags,
                opts=self._stateful,
            )
            for g in self._plan.spec.log_groups
        }

    def _filters(
        self, groups: dict[str, aws.cloudwatch.LogGroup]
    ) -> dict[tuple[str, str], aws.cloudwatch.LogMetricFilter]:
        return {
            (f.service, f.kind): aws.cloudwatch.LogMetricFilter(
                f"{self._prefix}-{f.name}",
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
                opts=self._child,
            )
            for f in self._plan.spec.metric_filters
        }

    def _queries(self, groups: dict[str, aws.cloudwatch.LogGroup]) -> None:
        """The Logs Insights saved queries, over every group of the stack."""
        group_names = [groups[s].name for s in sorted(groups)]
        for q in self._plan.spec.queries:
            aws.cloudwatch.QueryDefinition(
                f"{self._prefix}-query-{_slug(q.title)}",
                name=q.name,
                query_string=q.query,
                log_group_names=group_names,
                opts=self._child,
            )

    def _reports_topic(self) -> aws.sns.Topic:
        """Where the log alarms report, and the e-mail subscribed to it."""
        name, spec = self._prefix, self._plan.spec
        topic = aws.sns.Topic(
            f"{name}-reports",
            name=resource_name(spec.name_scope, "log-reports"),
            tags={**spec.tags, "component": "logs"},
            opts=self._child,
        )
        if spec.report_email:
            aws.sns.TopicSubscription(
                f"{name}-reports-email",
                topic=topic.arn,
                protocol="email",
                endpoint=spec.report_email,
                opts=self._child,
            )
        else:
            pulumi.log.warn(
                "logs.reportEmail is unset: log alarms notify an SNS topic nobody subscribes to",
                resource=self,
            )
        return topic

    def _alarms(
        self,
        filters: dict[tuple[str, str], aws.cloudwatch.LogMetricFilter],
        topic: aws.sns.Topic,
    ) -> None:
        spec = self._plan.spec
        for a in spec.alarms:
            aws.cloudwatch.MetricAlarm(
                f"{self._prefix}-{a.service}-{a.kind}-alarm",
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

    def _writers(self, groups: dict[str, aws.cloudwatch.LogGroup]) -> dict[str, pulumi.Output[str]]:
        """Per service, a policy that writes its own group only, attached to its IRSA role
        when the cluster has an OIDC provider; service -> role ARN."""
        roles: dict[str, pulumi.Output[str]] = {}
        for service in sorted(groups):
            role = self._writer(service, groups[service])
            if role is not None:
                roles[service] = role.arn
        if self._plan.oidc_provider_arn is None:
            pulumi.log.warn(
                "cluster.oidcProviderArn is unset: log writer policies are attached to no role",
                resource=self,
            )
        return roles

    def _writer(self, service: str, group: aws.cloudwatch.LogGroup) -> aws.iam.Role | None:
        name, args, spec = self._prefix, self._plan, self._plan.spec
        writer = aws.iam.Policy(
            f"{name}-{service}-writer",
            name=log_writer_policy_name(spec.name_scope, service),
            description=f"Write {service}'s own CloudWatch log streams, nothing else",
            policy=group.arn.apply(lambda arn: to_json(log_writer_policy([arn]))),
            tags={**spec.tags, "service": service},
            opts=self._child,
        )
        if args.oidc_provider_arn is None:
            return None
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
            opts=self._child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-{service}-writer",
            role=role.name,
            policy_arn=writer.arn,
            opts=self._child,
        )
        return role
