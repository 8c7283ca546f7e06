"""The metrics-store plan: where Prometheus's samples go besides its own disk.

Pure data (no Pulumi). `metrics.store: in-cluster` (dev, local; the default) keeps everything
in the cluster's Prometheus pair. `metrics.store: amp` (prod's default) adds Amazon Managed
Service for Prometheus: a workspace (declared by this stack, or an existing one another stack
declares: `metrics.amp.workspaceId`), Prometheus remote-writing to it with SigV4 through an
IRSA role allowed only `aps:RemoteWrite` on it, and Grafana reading it with SigV4 through its
own IRSA role allowed only the four query actions. Rules and paging stay in the cluster
(AMP's managed Alertmanager delivers to SNS only).

Rendered by infra/render/remote_write.py (Prometheus's remote_write, the chart's values, the
Grafana data source) and infra/render/aws.py (the IAM documents); declared by the
MetricsStore component (infra/components/metrics_store.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from infra.catalog.metrics_catalog import metrics_catalog
from infra.config.model import EstateConfig
from infra.naming import MONITORING_RELEASE, PROJECT, amp_role_name, resource_name
from infra.rules import RuleGroup

#: The chart's Prometheus and Grafana service accounts, named explicitly in the chart's values
#: (infra/render/kube_prometheus_stack.py) so the IRSA trust policies can name them.
PROMETHEUS_SERVICE_ACCOUNT = f"{MONITORING_RELEASE}-prometheus"
GRAFANA_SERVICE_ACCOUNT = f"{MONITORING_RELEASE}-grafana"

#: Series written besides the catalog's: `up` (targets, per cluster) and the alerts' state.
ALWAYS_WRITTEN = ("up", "ALERTS", "ALERTS_FOR_STATE")


@dataclass(frozen=True)
class RemoteWriteQueuePlan:
    capacity: int
    min_shards: int
    max_shards: int
    max_samples_per_send: int
    batch_send_deadline: str


@dataclass(frozen=True)
class AmpPlan:
    """What MetricsStore declares and what the chart is given, for `metrics.store: amp`."""

    environment: str
    #: What account-wide names carry (EstateConfig.name_scope): the stack's name.
    name_scope: str
    #: This stack's cluster (the `cluster` external label) and the other clusters writing to
    #: the same workspace (metrics.amp.otherClusters): every cluster the workspace holds.
    cluster: str
    other_clusters: tuple[str, ...]
    region: str
    #: The monitoring namespace, where the chart's service accounts live.
    namespace: str
    #: The cluster's OIDC provider: the IRSA roles trust exactly one service account each.
    oidc_provider_arn: str
    #: None: this stack declares the workspace (alias `workspace_alias`); else an existing one.
    existing_workspace_id: str | None
    workspace_alias: str
    retention_days: int
    #: The workspace's own log group (AMP's logging configuration) and its retention.
    log_group_name: str
    log_retention_days: int
    #: IAM role names; their ARNs are known before the roles exist (same account as the OIDC
    #: provider), so the chart's service-account annotations are plain values.
    prometheus_role_name: str
    grafana_role_name: str
    prometheus_service_account: str
    grafana_service_account: str
    queue: RemoteWriteQueuePlan
    #: Metric names Prometheus writes; every other series is dropped before it leaves.
    keep_metrics: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def clusters(self) -> tuple[str, ...]:
        return (self.cluster, *self.other_clusters)

    @property
    def multi_cluster(self) -> bool:
        return bool(self.other_clusters)

    @property
    def partition(self) -> str:
        return self.oidc_provider_arn.split(":")[1]

    @property
    def account_id(self) -> str:
        return self.oidc_provider_arn.split(":")[4]

    def role_arn(self, role_name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{role_name}"

    @property
    def prometheus_role_arn(self) -> str:
        return self.role_arn(self.prometheus_role_name)

    @property
    def grafana_role_arn(self) -> str:
        return self.role_arn(self.grafana_role_name)

    def workspace_arn(self, workspace_id: str) -> str:
        return f"arn:{self.partition}:aps:{self.region}:{self.account_id}:workspace/{workspace_id}"

    def workspace_endpoint(self, workspace_id: str) -> str:
        """The workspace's Prometheus endpoint (what `prometheus_endpoint` reports), with `/`."""
        return f"https://aps-workspaces.{self.region}.amazonaws.com/workspaces/{workspace_id}/"


def written_metrics(groups: Iterable[RuleGroup], extra: Iterable[str] = ()) -> tuple[str, ...]:
    """What the estate reads (every series its dashboards and rules may select, the records
    included: infra/catalog/metrics_catalog.py), `up`, the alerts' state, and `extra`."""
    names = {*metrics_catalog(groups).series, *ALWAYS_WRITTEN, *extra}
    return tuple(sorted(names))


def amp_plan(config: EstateConfig, groups: Iterable[RuleGroup]) -> AmpPlan | None:
    """The plan for `metrics.store: amp`; None for in-cluster. EstateConfig has refused amp
    without aws.enabled, a region or the cluster's OIDC provider."""
    if config.metrics.store != "amp":
        return None
    amp = config.metrics.amp
    assert config.aws_region is not None
    assert config.cluster.oidc_provider_arn is not None
    env, scope = config.environment, config.name_scope
    queue = amp.queue
    return AmpPlan(
        environment=env,
        name_scope=scope,
        cluster=config.cluster.name,
        other_clusters=amp.other_clusters,
        region=config.aws_region,
        namespace=config.metrics.namespace,
        oidc_provider_arn=config.cluster.oidc_provider_arn,
        existing_workspace_id=amp.workspace_id,
        workspace_alias=resource_name(scope, "metrics"),
        retention_days=amp.retention_days,
        log_group_name=f"/aws/vendedlogs/prometheus/{resource_name(scope, 'metrics')}",
        log_retention_days=amp.log_retention_days,
        prometheus_role_name=amp_role_name(scope, config.cluster.name, "prometheus"),
        grafana_role_name=amp_role_name(scope, config.cluster.name, "grafana"),
        prometheus_service_account=PROMETHEUS_SERVICE_ACCOUNT,
        grafana_service_account=GRAFANA_SERVICE_ACCOUNT,
        queue=RemoteWriteQueuePlan(
            capacity=queue.capacity,
            min_shards=queue.min_shards,
            max_shards=queue.max_shards,
            max_samples_per_send=queue.max_samples_per_send,
            batch_send_deadline=queue.batch_send_deadline,
        ),
        keep_metrics=written_metrics(groups, amp.keep_metrics),
        tags={"project": PROJECT, "environment": env, "component": "metrics-store"},
    )
