"""IAM and KMS policy documents: least privilege, exact principals and conditions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from infra.render.aws import (
    amp_query_policy,
    amp_remote_write_policy,
    irsa_trust_policy,
    log_group_kms_key_policy,
    log_writer_policy,
    logs_kms_key_policy,
    partition_of,
    to_json,
)

GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/blue-harvest/backend"


def test_writer_policy_grants_only_stream_creation_and_puts_on_its_group() -> None:
    doc = log_writer_policy([GROUP])
    assert doc["Statement"] == [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [GROUP, f"{GROUP}:log-stream:*"],
        }
    ]


def test_writer_policy_accepts_arns_with_the_wildcard_suffix() -> None:
    assert log_writer_policy([f"{GROUP}:*"]) == log_writer_policy([GROUP])


def test_writer_policy_has_no_wildcard_action_or_account_wide_resource() -> None:
    doc = log_writer_policy([GROUP, GROUP.replace("backend", "frontend")])
    for statement in doc["Statement"]:
        assert all("*" not in action for action in statement["Action"])
        assert all(
            r.startswith("arn:aws:logs:us-east-1:123456789012:log-group:/blue-harvest/")
            for r in statement["Resource"]
        )


def test_kms_policy_lets_regional_cloudwatch_logs_use_the_key_for_estate_groups_only() -> None:
    doc = logs_kms_key_policy(
        account_id="123456789012",
        region="eu-west-1",
        partition="aws",
        log_group_prefix="/blue-harvest",
    )
    admin, logs = doc["Statement"]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert "kms:GenerateDataKey*" in logs["Action"]
    groups = "arn:aws:logs:eu-west-1:123456789012:log-group:/blue-harvest/*"
    assert logs["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": groups}}


def test_irsa_trust_is_scoped_to_one_service_account() -> None:
    arn = "arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
    doc = irsa_trust_policy(
        oidc_provider_arn=arn, namespace="blue-harvest", service_account="backend"
    )
    (statement,) = doc["Statement"]
    assert statement["Principal"] == {"Federated": arn}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {
        "oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
        "oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:blue-harvest:backend",
    }


@pytest.mark.parametrize(
    ("arn", "partition"),
    [
        ("arn:aws:iam::123456789012:user/x", "aws"),
        ("arn:aws-cn:iam::123456789012:user/x", "aws-cn"),
        ("arn:aws-us-gov:sts::123456789012:assumed-role/r/s", "aws-us-gov"),
    ],
)
def test_partition_is_read_from_the_caller_arn(arn: str, partition: str) -> None:
    assert partition_of(arn) == partition


def test_partition_of_refuses_non_arns() -> None:
    with pytest.raises(ValueError, match="not an ARN"):
        partition_of("123456789012")


def test_policy_json_is_canonical() -> None:
    doc = log_writer_policy([GROUP])
    assert to_json(doc) == json.dumps(doc, sort_keys=True, separators=(",", ":"))
    assert to_json(doc).index('"Statement"') < to_json(doc).index('"Version"')


WORKSPACE = "arn:aws:aps:us-east-1:123456789012:workspace/ws-0a1b2c3d-0000-4000-8000-0123456789ab"


def test_remote_write_policy_allows_only_remote_write_on_the_one_workspace() -> None:
    assert amp_remote_write_policy(WORKSPACE)["Statement"] == [
        {
            "Sid": "RemoteWriteToWorkspace",
            "Effect": "Allow",
            "Action": ["aps:RemoteWrite"],
            "Resource": WORKSPACE,
        }
    ]


def test_query_policy_allows_only_the_four_read_actions_on_the_one_workspace() -> None:
    (statement,) = amp_query_policy(WORKSPACE)["Statement"]
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == [
        "aps:GetLabels",
        "aps:GetMetricMetadata",
        "aps:GetSeries",
        "aps:QueryMetrics",
    ]
    assert statement["Resource"] == WORKSPACE
    # Reading never includes writing or administering the workspace.
    assert "aps:RemoteWrite" not in statement["Action"]


@pytest.mark.parametrize("build", [amp_remote_write_policy, amp_query_policy])
@pytest.mark.parametrize(
    "arn",
    [
        "*",
        "arn:aws:aps:us-east-1:123456789012:workspace/*",
        "arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/ws-1/x",
        "arn:aws:logs:us-east-1:123456789012:log-group:/x",
    ],
)
def test_workspace_policies_refuse_anything_but_one_workspace_arn(
    build: Callable[[str], dict[str, Any]], arn: str
) -> None:
    with pytest.raises(ValueError, match="not an AMP workspace ARN"):
        build(arn)


def test_the_workspace_log_group_key_serves_that_one_group() -> None:
    doc = log_group_kms_key_policy(
        account_id="123456789012",
        region="us-east-1",
        partition="aws",
        log_group_name="/aws/vendedlogs/prometheus/blue-harvest-prod-metrics",
    )
    _, logs = doc["Statement"]
    group = (
        "arn:aws:logs:us-east-1:123456789012:log-group:"
        "/aws/vendedlogs/prometheus/blue-harvest-prod-metrics"
    )
    assert logs["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": group}}
