"""Every metric a dashboard may read, with where it comes from.

A panel that names a metric nobody exposes shows "No data" forever, and nothing else warns:
the dashboard checks (infra/checks/dashboards.py) compare each panel's metrics with this
catalog. It holds the backend's metrics as the seed declares them with prom-client (section 2),
the prom-client default metrics the dashboards use, the recording rules' series (derived from
the rule groups, so a renamed record cannot leave a panel behind), and the exporters'
metrics as kube-prometheus-stack exposes them (cAdvisor and the kubelet via the kubelet
ServiceMonitor, kube-state-metrics, and Prometheus' own `up`).

Pure data: no Pulumi, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from infra.rules import RuleGroup

MetricKind = Literal["counter", "gauge", "histogram"]
Source = Literal[
    "application",
    "prom-client",
    "cadvisor",
    "kubelet",
    "kube-state-metrics",
    "prometheus",
    "recording rule",
    "otel-collector",
    "loki",
    "alloy",
]


@dataclass(frozen=True)
class Metric:
    """One metric family. A counter's name is its exposed name (the seed's end in _total)."""

    name: str
    kind: MetricKind
    source: Source
    help: str

    @property
    def series(self) -> tuple[str, ...]:
        """The names PromQL can select: a histogram's _bucket, _sum and _count, else the name."""
        if self.kind == "histogram":
            return (f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count")
        return (self.name,)


#: The backend's metrics (seed section 2, prom-client; the pool gauges from its alert rules).
APPLICATION: tuple[Metric, ...] = (
    Metric("http_requests_total", "counter", "application", "HTTP requests"),
    Metric("http_request_duration_seconds", "histogram", "application", "HTTP request duration"),
    Metric("db_query_duration_seconds", "histogram", "application", "Database query duration"),
    Metric("active_users", "gauge", "application", "Currently active users"),
    Metric("cache_hits_total", "counter", "application", "Cache hits"),
    Metric("cache_misses_total", "counter", "application", "Cache misses"),
    Metric("user_signups_total", "counter", "application", "User signups"),
    Metric("posts_created_total", "counter", "application", "Posts created"),
    Metric("db_pool_active_connections", "gauge", "application", "Pool connections in use"),
    Metric("db_pool_max_connections", "gauge", "application", "Pool size"),
)

#: prom-client's collectDefaultMetrics() (the seed turns it on), the ones the dashboards read.
PROM_CLIENT_DEFAULTS: tuple[Metric, ...] = (
    Metric("process_cpu_seconds_total", "counter", "prom-client", "CPU time, user and system"),
    Metric("process_resident_memory_bytes", "gauge", "prom-client", "Resident memory"),
)

#: cAdvisor, scraped through the kubelet's /metrics/cadvisor by kube-prometheus-stack.
CADVISOR: tuple[Metric, ...] = (
    Metric("container_cpu_usage_seconds_total", "counter", "cadvisor", "Container CPU time"),
    Metric("container_memory_working_set_bytes", "gauge", "cadvisor", "Container working set"),
    Metric("container_network_receive_bytes_total", "counter", "cadvisor", "Pod bytes received"),
    Metric(
        "container_network_transmit_bytes_total", "counter", "cadvisor", "Pod bytes transmitted"
    ),
)

#: The kubelet's own /metrics: volume statistics of mounted PersistentVolumeClaims.
KUBELET: tuple[Metric, ...] = (
    Metric("kubelet_volume_stats_used_bytes", "gauge", "kubelet", "PVC bytes used"),
    Metric("kubelet_volume_stats_capacity_bytes", "gauge", "kubelet", "PVC capacity"),
)

#: kube-state-metrics (kubeStateMetrics.enabled in the chart values).
KUBE_STATE_METRICS: tuple[Metric, ...] = (
    Metric(
        "kube_pod_container_resource_requests",
        "gauge",
        "kube-state-metrics",
        "Container resource requests (cpu in cores, memory in bytes)",
    ),
    Metric(
        "kube_pod_container_resource_limits",
        "gauge",
        "kube-state-metrics",
        "Container resource limits (cpu in cores, memory in bytes)",
    ),
)

#: Prometheus' synthetic per-target series.
PROMETHEUS: tuple[Metric, ...] = (
    Metric("up", "gauge", "prometheus", "1 if the last scrape of the target succeeded"),
)

#: The telemetry pipeline's own metrics (ServiceMonitors in infra/render/tracing.py and
#: infra/render/loki.py), read by alerts/pipeline.py and the Estate Health dashboard. The
#: collector's also come from Jaeger v2, itself a collector (its storage writes are the
#: `jaeger_storage_exporter`'s sends); Alloy's loki.write component keeps Promtail's names.
PIPELINE: tuple[Metric, ...] = (
    Metric("otelcol_receiver_accepted_spans_total", "counter", "otel-collector", "Spans taken in"),
    Metric("otelcol_receiver_refused_spans_total", "counter", "otel-collector", "Spans refused"),
    Metric("otelcol_exporter_sent_spans_total", "counter", "otel-collector", "Spans sent on"),
    Metric(
        "otelcol_exporter_send_failed_spans_total",
        "counter",
        "otel-collector",
        "Spans that failed to send",
    ),
    Metric(
        "loki_request_duration_seconds",
        "histogram",
        "loki",
        "Loki requests by route and status_code",
    ),
    Metric("loki_discarded_samples_total", "counter", "loki", "Log lines discarded, by reason"),
    Metric(
        "alloy_component_controller_running_components",
        "gauge",
        "alloy",
        "Running components by health_type",
    ),
    Metric("loki_write_sent_entries_total", "counter", "alloy", "Entries sent to Loki"),
    Metric("loki_write_dropped_entries_total", "counter", "alloy", "Entries dropped"),
)

EXPOSED: tuple[Metric, ...] = (
    *APPLICATION,
    *PROM_CLIENT_DEFAULTS,
    *CADVISOR,
    *KUBELET,
    *KUBE_STATE_METRICS,
    *PROMETHEUS,
    *PIPELINE,
)


@dataclass(frozen=True)
class MetricsCatalog:
    """The metrics known to exist, looked up by the series name a query selects."""

    metrics: tuple[Metric, ...]

    def __post_init__(self) -> None:
        seen: dict[str, Metric] = {}
        for metric in self.metrics:
            for series in metric.series:
                if series in seen:
                    raise ValueError(
                        f"metric catalog: {series} is declared twice"
                        f" ({seen[series].source} and {metric.source})"
                    )
                seen[series] = metric

    def __contains__(self, series: object) -> bool:
        return isinstance(series, str) and self.find(series) is not None

    def __iter__(self) -> Iterator[Metric]:
        return iter(self.metrics)

    def find(self, series: str) -> Metric | None:
        """The metric a series name belongs to, or None."""
        for metric in self.metrics:
            if series in metric.series:
                return metric
        return None

    @property
    def series(self) -> frozenset[str]:
        return frozenset(s for m in self.metrics for s in m.series)


def recorded(groups: Iterable[RuleGroup]) -> tuple[Metric, ...]:
    """One gauge per recording rule name (a record with several label sets counts once)."""
    names: dict[str, str] = {}
    for group in groups:
        for rule in group.records:
            names.setdefault(rule.record, group.name)
    return tuple(
        Metric(record, "gauge", "recording rule", f"recorded by the {group} rule group")
        for record, group in sorted(names.items())
    )


def metrics_catalog(groups: Iterable[RuleGroup]) -> MetricsCatalog:
    """The exporters' and the application's metrics plus the records of `groups`."""
    return MetricsCatalog(metrics=(*EXPOSED, *recorded(groups)))
