"""The IAM policy the identity that runs `pulumi up` needs, generated from what a stack
declares (`estate deploy-policy STACK`).

The table below says, per AWS resource type the components can declare, which API calls the
AWS provider makes to create, read (refresh), update, tag and delete it. The policy for a
stack takes the rows of the types its synth registers, so a stack without AMP never asks for
`aps:*`, and a type added to a component without a row here fails its test
(tests/checks/test_deploy_policy.py) instead of failing a first deploy.

Actions apply to `*`: the resources' names are the program's to choose, and the provider's
`allowedAccountIds` keeps it to the stack's account. Narrowing by name prefix
(`/blue-harvest/*`, `blue-harvest-*`) is possible where a service supports it; the docs say
how (docs/deploying.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

#: Every AWS resource type the components declare -> the calls the provider makes for it.
ACTIONS: dict[str, tuple[str, ...]] = {
    "aws:kms/key:Key": (
        "kms:CreateKey", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy",
        "kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
        "kms:UpdateKeyDescription", "kms:EnableKey", "kms:DisableKey", "kms:ListResourceTags",
        "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
    ),
    "aws:kms/alias:Alias": (
        "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:ListAliases",
    ),
    "aws:cloudwatch/logGroup:LogGroup": (
        "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DescribeLogGroups",
        "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:AssociateKmsKey",
        "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource",
        "logs:ListTagsForResource",
    ),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": (
        "logs:PutMetricFilter", "logs:DeleteMetricFilter", "logs:DescribeMetricFilters",
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
        "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource",
    ),
    "aws:cloudwatch/queryDefinition:QueryDefinition": (
        "logs:PutQueryDefinition", "logs:DeleteQueryDefinition", "logs:DescribeQueryDefinitions",
    ),
    "aws:iam/policy:Policy": (
        "iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion",
        "iam:ListPolicyVersions", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
        "iam:TagPolicy", "iam:UntagPolicy",
    ),
    "aws:iam/role:Role": (
        "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole",
        "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
    ),
    "aws:iam/rolePolicy:RolePolicy": (
        "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy",
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (
        "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies",
    ),
    "aws:s3/bucket:Bucket": (
        "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucket*",
        "s3:PutBucketTagging", "s3:GetAccelerateConfiguration", "s3:GetLifecycleConfiguration",
        "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration",
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration",
    ),
    "aws:s3/bucketPolicy:BucketPolicy": (
        "s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy",
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock",
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration",
    ),
    "aws:sns/topic:Topic": (
        "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
        "sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource",
    ),
    "aws:sns/topicSubscription:TopicSubscription": (
        "sns:Subscribe", "sns:Unsubscribe", "sns:GetSubscriptionAttributes",
        "sns:SetSubscriptionAttributes",
    ),
    "aws:amp/workspace:Workspace": (
        "aps:CreateWorkspace", "aps:DeleteWorkspace", "aps:DescribeWorkspace",
        "aps:UpdateWorkspaceAlias", "aps:TagResource", "aps:UntagResource",
        "aps:ListTagsForResource", "aps:CreateLoggingConfiguration",
        "aps:UpdateLoggingConfiguration", "aps:DeleteLoggingConfiguration",
        "aps:DescribeLoggingConfiguration",
        # The workspace's logs are vended logs: CloudWatch Logs delivers them.
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
    ),
    "aws:amp/workspaceConfiguration:WorkspaceConfiguration": (
        "aps:DescribeWorkspaceConfiguration", "aps:UpdateWorkspaceConfiguration",
    ),
    "aws:rum/appMonitor:AppMonitor": (
        "rum:CreateAppMonitor", "rum:GetAppMonitor", "rum:UpdateAppMonitor",
        "rum:DeleteAppMonitor", "rum:TagResource", "rum:UntagResource",
        "rum:ListTagsForResource",
    ),
    "aws:cognito/identityPool:IdentityPool": (
        "cognito-identity:CreateIdentityPool", "cognito-identity:DeleteIdentityPool",
        "cognito-identity:DescribeIdentityPool", "cognito-identity:UpdateIdentityPool",
        "cognito-identity:TagResource", "cognito-identity:UntagResource",
        "cognito-identity:ListTagsForResource",
    ),
    "aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment": (
        "cognito-identity:SetIdentityPoolRoles", "cognito-identity:GetIdentityPoolRoles",
        # Attaching a role to the pool passes it to Cognito.
        "iam:PassRole",
    ),
}  # fmt: skip


class UnknownResourceTypeError(ValueError):
    """A stack declares an AWS type the table has no row for."""


def aws_types(types: Iterable[str]) -> list[str]:
    """The AWS resource types among `types` (providers and components left out)."""
    return sorted({t for t in types if t.startswith("aws:")})


def deploy_policy(types: Iterable[str]) -> dict[str, object]:
    """The IAM policy document for a stack that registers `types`: one statement, the sorted
    union of their actions. Raises UnknownResourceTypeError naming any type without a row."""
    declared = aws_types(types)
    unknown = [t for t in declared if t not in ACTIONS]
    if unknown:
        raise UnknownResourceTypeError(
            f"no IAM actions known for {', '.join(unknown)}: add them to"
            " infra/checks/deploy_policy.py ACTIONS"
        )
    actions = sorted({action for t in declared for action in ACTIONS[t]})
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "EstateDeploy", "Effect": "Allow", "Action": actions, "Resource": "*"}
        ]
        if actions
        else [],
    }


def policy_json(types: Iterable[str]) -> str:
    return json.dumps(deploy_policy(types), indent=2) + "\n"
