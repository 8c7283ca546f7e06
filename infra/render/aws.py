"""IAM and KMS policy documents, as plain dicts (serialised with sorted keys by the caller)."""

from __future__ import annotations

import json
import re
from typing import Any

PolicyDocument = dict[str, Any]


def partition_of(arn: str) -> str:
    """`aws`, `aws-cn` or `aws-us-gov`: the second field of any ARN."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    return parts[1]


def logs_kms_key_policy(
    *, account_id: str, region: str, partition: str, log_group_prefix: str
) -> PolicyDocument:
    """A key policy that keeps the account in control and lets CloudWatch Logs in `region`
    use the key, only for this estate's log groups (the encryption-context condition)."""
    return _logs_key_policy(
        account_id=account_id,
        region=region,
        partition=partition,
        log_groups=f"{log_group_prefix}/*",
    )


def log_group_kms_key_policy(
    *, account_id: str, region: str, partition: str, log_group_name: str
) -> PolicyDocument:
    """As logs_kms_key_policy, for one log group only (the metrics workspace's own group,
    which AMP wants under /aws/vendedlogs/, outside the estate's prefix)."""
    return _logs_key_policy(
        account_id=account_id, region=region, partition=partition, log_groups=log_group_name
    )


def _logs_key_policy(
    *, account_id: str, region: str, partition: str, log_groups: str
) -> PolicyDocument:
    log_groups = f"arn:{partition}:logs:{region}:{account_id}:log-group:{log_groups}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsUsesKey",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": [
                    "kms:Decrypt*",
                    "kms:Describe*",
                    "kms:Encrypt*",
                    "kms:GenerateDataKey*",
                    "kms:ReEncrypt*",
                ],
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            },
        ],
    }


def log_writer_policy(log_group_arns: list[str]) -> PolicyDocument:
    """Only CreateLogStream and PutLogEvents, only on the given groups and their streams."""
    resources: list[str] = []
    for arn in sorted(log_group_arns):
        base = arn.removesuffix(":*")
        resources += [base, f"{base}:log-stream:*"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": resources,
            }
        ],
    }


def irsa_trust_policy(
    *, oidc_provider_arn: str, namespace: str, service_account: str
) -> PolicyDocument:
    """Lets exactly one Kubernetes service account assume the role through the cluster's OIDC."""
    issuer = oidc_provider_arn.split(":oidc-provider/", 1)[1]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:aud": "sts.amazonaws.com",
                        f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                    }
                },
            }
        ],
    }


#: What Prometheus may do on the metrics workspace: write samples, nothing else.
AMP_REMOTE_WRITE_ACTIONS = ("aps:RemoteWrite",)
#: What Grafana may do on it: query, never write, never administer.
AMP_QUERY_ACTIONS = ("aps:GetLabels", "aps:GetMetricMetadata", "aps:GetSeries", "aps:QueryMetrics")

_WORKSPACE_ARN = re.compile(
    r"^arn:aws(-cn|-us-gov)?:aps:[a-z0-9-]+:[0-9]{12}:workspace/ws-[0-9a-f-]+$"
)


def _workspace_statement(sid: str, actions: tuple[str, ...], workspace_arn: str) -> PolicyDocument:
    if not _WORKSPACE_ARN.match(workspace_arn):
        raise ValueError(f"not an AMP workspace ARN: {workspace_arn!r}")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": workspace_arn}
        ],
    }


def amp_remote_write_policy(workspace_arn: str) -> PolicyDocument:
    """Prometheus's IRSA role: only `aps:RemoteWrite`, only on this one workspace."""
    return _workspace_statement("RemoteWriteToWorkspace", AMP_REMOTE_WRITE_ACTIONS, workspace_arn)


def amp_query_policy(workspace_arn: str) -> PolicyDocument:
    """Grafana's IRSA role: only the four read actions of the query API, on this workspace."""
    return _workspace_statement("QueryWorkspace", AMP_QUERY_ACTIONS, workspace_arn)


def to_json(document: PolicyDocument) -> str:
    """Canonical JSON for a policy: sorted keys, so an unchanged policy never shows a diff."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))
