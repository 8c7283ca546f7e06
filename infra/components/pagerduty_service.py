"""PagerDutyService: escalation policy, service and Events API v2 integration for paging."""

from __future__ import annotations

import pulumi
import pulumi_pagerduty as pagerduty

from infra.naming import TYPE_PREFIX
from infra.plan.routing import PagerDutyPlan


class PagerDutyService(pulumi.ComponentResource):
    """Creates what Alertmanager pages; `integration_key` is its Events API v2 routing key."""

    integration_key: pulumi.Output[str]
    service_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: PagerDutyPlan, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:PagerDutyService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        manage = args.manage
        title = manage.service_name or f"Blue Harvest ({args.name_scope})"
        policy = pagerduty.EscalationPolicy(
            f"{name}-escalation",
            name=f"{title} escalation",
            num_loops=manage.num_loops,
            rules=[
                pagerduty.EscalationPolicyRuleArgs(
                    escalation_delay_in_minutes=manage.escalation_delay_minutes,
                    targets=[
                        pagerduty.EscalationPolicyRuleTargetArgs(type=t.type, id=t.id)
                        for t in manage.escalation_targets
                    ],
                )
            ],
            opts=child,
        )
        service = pagerduty.Service(
            f"{name}-service",
            name=title,
            description=f"Alertmanager pages for Blue Harvest {args.name_scope}",
            escalation_policy=policy.id,
            alert_creation="create_alerts_and_incidents",
            auto_resolve_timeout="null",
            acknowledgement_timeout="null",
            opts=child,
        )
        integration = pagerduty.ServiceIntegration(
            f"{name}-events-v2",
            name="Alertmanager (Events API v2)",
            service=service.id,
            type="events_api_v2_inbound_integration",
            opts=child,
        )
        self.integration_key = pulumi.Output.secret(integration.integration_key)
        self.service_id = service.id
        self.register_outputs({"serviceId": self.service_id})
