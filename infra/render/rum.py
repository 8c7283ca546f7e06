"""CloudWatch RUM's IAM documents: the guest role's trust policy and its one permission.

Pure (no Pulumi); the Rum component applies them to the pool id and monitor ARN it creates.
"""

from __future__ import annotations

from infra.render.aws import PolicyDocument

#: What the frontend reports: JS errors, page performance (web vitals), HTTP calls.
TELEMETRIES = ("errors", "http", "performance")


def guest_trust_policy(identity_pool_id: str) -> PolicyDocument:
    """Only this pool's unauthenticated identities may assume the guest role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": identity_pool_id},
                    "ForAnyValue:StringLike": {
                        "cognito-identity.amazonaws.com:amr": "unauthenticated"
                    },
                },
            }
        ],
    }


def put_events_policy(app_monitor_arn: str) -> PolicyDocument:
    """Send events to this monitor, nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PutRumEvents",
                "Effect": "Allow",
                "Action": "rum:PutRumEvents",
                "Resource": app_monitor_arn,
            }
        ],
    }
