"""EstatePlan: everything one stack declares, as plain data, before any resource exists.

`infra.program.plan(config)` builds it (and raises every ConfigError of every capability at
once); `infra.program.register(plan)` wires the components from it and never reads the
config. No Pulumi import here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

from infra.plan.dashboards import DashboardsPlan
from infra.plan.kubernetes import KubernetesProviderPlan
from infra.plan.logs import LogsPlan
from infra.plan.loki import LokiPlan
from infra.plan.monitoring import MonitoringPlan
from infra.plan.routing import PagerDutyPlan
from infra.plan.rum import RumPlan
from infra.plan.sentry import SentryPlan
from infra.plan.tracing import TracingPlan
from infra.plan.workloads import WorkloadSpec


@dataclass(frozen=True)
class AwsProviderPlan:
    """The explicit AWS provider: region, wrong-account guard, profile, roles, default tags."""

    region: str
    allowed_account_ids: tuple[str, ...] = ()
    profile: str | None = None
    #: aws:assumeRoles, a credential: it reaches the provider only as a secret.
    assume_roles: SecretStr | None = None
    default_tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EstatePlan:
    environment: str
    #: The workloads' namespace (cluster.namespace) and the observability tools' one.
    workloads_namespace: str
    observability_namespace: str
    monitoring: MonitoringPlan
    dashboards: DashboardsPlan
    workloads: list[WorkloadSpec]
    kubernetes: KubernetesProviderPlan
    aws: AwsProviderPlan | None = None
    logs: LogsPlan | None = None
    pagerduty: PagerDutyPlan | None = None
    tracing: TracingPlan | None = None
    loki: LokiPlan | None = None
    sentry: SentryPlan | None = None
    rum: RumPlan | None = None
