"""Rum: a CloudWatch RUM app monitor for the frontend's domain (config.rum).

The RUM web client in a browser has no AWS credentials of its own; the usual setup, and the
one the console creates, is a Cognito identity pool that hands unauthenticated visitors a
guest role allowed only `rum:PutRumEvents` on this monitor. The AppMonitor API does not
require the pool, but without it (or a resource policy) no browser could send events.
Pass the AWS provider through `providers=` as for CloudWatchLogs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.config.model import EstateConfig
from infra.naming import PROJECT, TYPE_PREFIX, resource_name
from infra.render.aws import PolicyDocument, to_json

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


@dataclass(frozen=True)
class RumArgs:
    environment: str
    #: The frontend's top-level domain (rum.domain).
    domain: str
    #: Share of sessions recorded, 0 to 1 (rum.sessionSampleRate).
    session_sample_rate: float
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: EstateConfig) -> RumArgs:
        if not config.rum.enabled or config.rum.domain is None:
            raise ValueError("Rum needs rum.enabled with a domain")
        return cls(
            environment=config.environment,
            domain=config.rum.domain,
            session_sample_rate=config.rum.session_sample_rate,
            tags={"project": PROJECT, "environment": config.environment, "component": "rum"},
        )


class Rum(pulumi.ComponentResource):
    """Real-user monitoring of the frontend."""

    app_monitor_id: pulumi.Output[str]
    identity_pool_id: pulumi.Output[str]
    guest_role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: RumArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:Rum", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pool = aws.cognito.IdentityPool(
            f"{name}-identity-pool",
            identity_pool_name=f"blue_harvest_{args.environment}_rum",
            allow_unauthenticated_identities=True,
            allow_classic_flow=False,
            tags=args.tags,
            opts=child,
        )
        guest = aws.iam.Role(
            f"{name}-guest",
            name=resource_name(args.environment, "rum-guest"),
            description="Unauthenticated visitors of the frontend: send RUM events only",
            assume_role_policy=pool.id.apply(lambda pid: to_json(guest_trust_policy(pid))),
            tags=args.tags,
            opts=child,
        )
        monitor = aws.rum.AppMonitor(
            f"{name}-monitor",
            name=resource_name(args.environment),
            domain=args.domain,
            cw_log_enabled=False,
            app_monitor_configuration={
                "allow_cookies": True,
                "enable_xray": False,
                "session_sample_rate": args.session_sample_rate,
                "telemetries": list(TELEMETRIES),
                "identity_pool_id": pool.id,
                "guest_role_arn": guest.arn,
            },
            tags=args.tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-guest-put-events",
            role=guest.name,
            policy=monitor.arn.apply(lambda arn: to_json(put_events_policy(arn))),
            opts=child,
        )
        aws.cognito.IdentityPoolRoleAttachment(
            f"{name}-roles",
            identity_pool_id=pool.id,
            roles={"unauthenticated": guest.arn},
            opts=child,
        )
        self.app_monitor_id = monitor.app_monitor_id
        self.identity_pool_id = pool.id
        self.guest_role_arn = guest.arn
        self.register_outputs(
            {
                "appMonitorId": self.app_monitor_id,
                "identityPoolId": self.identity_pool_id,
                "guestRoleArn": self.guest_role_arn,
            }
        )
