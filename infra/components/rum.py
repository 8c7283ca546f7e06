"""Rum: a CloudWatch RUM app monitor for the frontend's domain (config.rum).

The RUM web client in a browser has no AWS credentials of its own; the usual setup, and the
one the console creates, is a Cognito identity pool that hands unauthenticated visitors a
guest role allowed only `rum:PutRumEvents` on this monitor. The AppMonitor API does not
require the pool, but without it (or a resource policy) no browser could send events.
Takes a RumPlan (infra/plan/rum.py); the IAM documents come from infra/render/rum.py.
Pass the AWS provider through `providers=` as for CloudWatchLogs.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.naming import TYPE_PREFIX, resource_name
from infra.plan.rum import RumPlan
from infra.render.aws import to_json
from infra.render.rum import TELEMETRIES, guest_trust_policy, put_events_policy


class Rum(pulumi.ComponentResource):
    """Real-user monitoring of the frontend."""

    app_monitor_id: pulumi.Output[str]
    identity_pool_id: pulumi.Output[str]
    guest_role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: RumPlan, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:Rum", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pool = aws.cognito.IdentityPool(
            f"{name}-identity-pool",
            identity_pool_name=f"blue_harvest_{args.name_scope}_rum",
            allow_unauthenticated_identities=True,
            allow_classic_flow=False,
            tags=args.tags,
            opts=child,
        )
        guest = aws.iam.Role(
            f"{name}-guest",
            name=resource_name(args.name_scope, "rum-guest"),
            description="Unauthenticated visitors of the frontend: send RUM events only",
            assume_role_policy=pool.id.apply(lambda pid: to_json(guest_trust_policy(pid))),
            tags=args.tags,
            opts=child,
        )
        monitor = aws.rum.AppMonitor(
            f"{name}-monitor",
            name=resource_name(args.name_scope),
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
