"""LogAggregation: Loki (monolithic) and the Alloy log shipper; in prod, Loki's S3 bucket.

With S3 storage the component creates the bucket (encrypted, public access blocked, TLS only,
objects expiring a day after Loki's retention), an IRSA role for Loki's service account and a
policy that allows that role its bucket only. The bucket is protected and retained on delete
when the plan says so (prod), like the CloudWatch log groups. Pass the AWS provider through
`providers=` as for CloudWatchLogs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

with warnings.catch_warnings():
    # Loading pulumi_aws.s3 (lazily, on first attribute access) imports its deprecated *V2
    # classes too, each warning at import; this component uses only the current ones.
    warnings.simplefilter("ignore", DeprecationWarning)
    _ = aws.s3.Bucket

from infra.components import helm_release
from infra.naming import ALLOY_RELEASE, LOKI_RELEASE, TYPE_PREFIX, loki_bucket_name, resource_name
from infra.plan.loki import LokiPlan
from infra.render.aws import irsa_trust_policy, to_json
from infra.render.loki import (
    ALLOY_CHART,
    ALLOY_CHART_REPO,
    ALLOY_CHART_VERSION,
    LOKI_CHART,
    LOKI_CHART_REPO,
    LOKI_CHART_VERSION,
    LOKI_SERVICE_ACCOUNT,
    alloy_values,
    lifecycle_expiration_days,
    loki_values,
    s3_access_policy,
    tls_only_bucket_policy,
)


@dataclass(frozen=True)
class LogAggregationArgs:
    """The plan (infra.render.loki.loki_plan) and what the releases wait for."""

    plan: LokiPlan
    loki_chart_version: str = LOKI_CHART_VERSION
    alloy_chart_version: str = ALLOY_CHART_VERSION
    #: What the releases wait for (the observability Namespace).
    depends_on: Sequence[pulumi.Resource] = ()


class LogAggregation(pulumi.ComponentResource):
    """In-cluster logs: every container's output, searchable in Grafana through Loki."""

    loki_push_url: pulumi.Output[str]
    bucket_name: pulumi.Output[str | None]
    loki_role_arn: pulumi.Output[str | None]

    def __init__(
        self, name: str, args: LogAggregationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:LogAggregation", name, None, opts)
        plan = args.plan
        waits: list[pulumi.Resource] = list(args.depends_on)

        values: pulumi.Input[dict[str, Any]]
        bucket_name: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        role_arn: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if plan.storage == "s3":
            bucket, role = self._s3(name, plan, waits)
            values = pulumi.Output.all(bucket.bucket, role.arn).apply(
                lambda a: loki_values(plan, bucket=a[0], role_arn=a[1])
            )
            bucket_name = bucket.bucket
            role_arn = role.arn
        else:
            values = loki_values(plan)

        loki = helm_release(
            f"{name}-loki",
            release=LOKI_RELEASE,
            chart=LOKI_CHART,
            repo=LOKI_CHART_REPO,
            version=args.loki_chart_version,
            namespace=plan.namespace,
            values=values,
            timeout=900,
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits),
        )
        helm_release(
            f"{name}-alloy",
            release=ALLOY_RELEASE,
            chart=ALLOY_CHART,
            repo=ALLOY_CHART_REPO,
            version=args.alloy_chart_version,
            namespace=plan.namespace,
            values=alloy_values(plan),
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, loki]),
        )

        self.loki_push_url = loki.status.apply(lambda _: plan.push_url)
        self.bucket_name = bucket_name
        self.loki_role_arn = role_arn
        self.register_outputs(
            {
                "lokiPushUrl": self.loki_push_url,
                "bucketName": self.bucket_name,
                "lokiRoleArn": self.loki_role_arn,
            }
        )

    def _s3(
        self, name: str, plan: LokiPlan, waits: list[pulumi.Resource]
    ) -> tuple[aws.s3.Bucket, aws.iam.Role]:
        """The bucket, its guards, and the IRSA role that may use it; appended to `waits`."""
        if plan.oidc_provider_arn is None:
            raise ValueError(
                "blue-harvest:cluster.oidcProviderArn is required with loki.storage s3"
            )
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(
            parent=self, protect=plan.protect, retain_on_delete=plan.protect
        )
        bucket_name: pulumi.Input[str]
        if plan.bucket is not None:
            bucket_name = plan.bucket
        else:
            caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
            scope = plan.name_scope
            bucket_name = caller.apply(lambda c: loki_bucket_name(scope, c.account_id))
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=bucket_name,
            force_destroy=False,
            tags=plan.tags,
            opts=stateful,
        )
        access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-bucket-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-bucket-encryption",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-bucket-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-after-loki-retention",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": lifecycle_expiration_days(plan.retention)},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                }
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-bucket-policy",
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: to_json(tls_only_bucket_policy(arn))),
            # S3 refuses a bucket policy while the public access block is being written.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[access_block]),
        )
        policy = aws.iam.Policy(
            f"{name}-loki-s3",
            name=resource_name(plan.name_scope, "loki-s3"),
            description="Loki's own bucket: list it, read, write and delete its objects",
            policy=bucket.arn.apply(lambda arn: to_json(s3_access_policy(arn))),
            tags=plan.tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-loki-irsa",
            name=resource_name(plan.name_scope, "loki"),
            description="IRSA role of Loki's service account",
            assume_role_policy=to_json(
                irsa_trust_policy(
                    oidc_provider_arn=plan.oidc_provider_arn,
                    namespace=plan.namespace,
                    service_account=LOKI_SERVICE_ACCOUNT,
                )
            ),
            tags=plan.tags,
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-loki-s3", role=role.name, policy_arn=policy.arn, opts=child
        )
        waits.append(attachment)
        return bucket, role
