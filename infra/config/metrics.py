"""`blue-harvest:metrics`: Prometheus, Alertmanager and the metrics store (AMP)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
)

from infra.config.fields import (
    _AMP_WORKSPACE_ID,
    _DNS_LABEL,
    _MEMORY,
    _METRIC_NAME,
    _SEMVER,
    _SIZE,
    _URL,
    Duration,
    HttpUrl,
    _allowed_retention,
    _Model,
)
from infra.config.services import (
    ResourcesConfig,
)

MetricsStore = Literal["in-cluster", "amp"]


class RemoteWriteQueue(_Model):
    """Prometheus's remote-write queue (per shard): how much it buffers and sends at once."""

    capacity: int = Field(
        default=10000, ge=100, le=1_000_000, description="Samples buffered per shard."
    )
    min_shards: int = Field(default=1, ge=1, le=1000)
    max_shards: int = Field(default=50, ge=1, le=1000, description="Parallel senders at most.")
    max_samples_per_send: int = Field(
        default=2000, ge=100, le=100_000, description="Samples per request."
    )
    batch_send_deadline: Duration = Field(
        default="5s", description="Longest a sample waits in a shard."
    )


class AmpConfig(_Model):
    """The Amazon Managed Service for Prometheus workspace this stack's Prometheus writes to."""

    workspace_id: str | None = Field(
        default=None,
        pattern=_AMP_WORKSPACE_ID,
        description="Write to an existing workspace (one another stack declares, in this"
        " account and region); unset: this stack declares its own.",
    )
    retention_days: int = Field(
        default=150,
        ge=1,
        le=1095,
        description="How long the workspace keeps samples (only for a workspace this stack"
        " declares).",
    )
    other_clusters: tuple[Annotated[str, Field(pattern=_DNS_LABEL)], ...] = Field(
        default=(),
        description="Other clusters writing to the same workspace: the dashboards gain a"
        " `cluster` variable.",
    )
    queue: RemoteWriteQueue = RemoteWriteQueue()
    keep_metrics: tuple[Annotated[str, Field(pattern=_METRIC_NAME)], ...] = Field(
        default=(),
        description="Metric names written besides those the estate's rules and dashboards read.",
    )
    log_retention_days: Annotated[int, AfterValidator(_allowed_retention)] = Field(
        default=30, description="Retention of the workspace's own log group."
    )


class MetricsConfig(_Model):
    """kube-prometheus-stack: Prometheus, Alertmanager, Grafana and the operator."""

    store: MetricsStore = Field(
        default="in-cluster",
        description="in-cluster: Prometheus's disk only; amp: also remote-write to Amazon"
        " Managed Service for Prometheus (metrics.amp), Grafana reading it.",
    )
    amp: AmpConfig = AmpConfig()

    namespace: str = Field(default="monitoring", pattern=_DNS_LABEL)
    chart_version: str = Field(default="88.0.0", pattern=_SEMVER)
    retention: Duration = Field(description="How long Prometheus keeps samples.")
    retention_size: str = Field(pattern=_SIZE, description="Disk cap for the TSDB, e.g. 45GB.")
    storage: str = Field(pattern=_MEMORY, description="Prometheus volume size, e.g. 50Gi.")
    storage_class: str | None = Field(default=None, pattern=_DNS_LABEL)
    prometheus_replicas: int = Field(ge=1, le=10)
    alertmanager_replicas: int = Field(ge=1, le=10)
    alertmanager_storage: str = Field(default="1Gi", pattern=_MEMORY)
    scrape_interval: Duration = Field(default="30s")
    evaluation_interval: Duration = Field(default="30s")
    prometheus_resources: ResourcesConfig
    grafana_storage: str | None = Field(
        default=None, pattern=_MEMORY, description="Grafana persistence size; none disables it."
    )
    prometheus_external_url: HttpUrl | None = Field(
        default=None, pattern=_URL, description="Where people reach Prometheus (alert links)."
    )
    alertmanager_external_url: HttpUrl | None = Field(
        default=None, pattern=_URL, description="Where people reach Alertmanager (silences)."
    )
