"""The pipeline group: the telemetry pipeline watching itself (meta-monitoring).

The OpenTelemetry collector, Jaeger v2, Loki and Alloy are scraped through their own
ServiceMonitors (infra/render/tracing.py, infra/render/loki.py), so their series carry the
Kubernetes Service name as `service` (Prometheus Operator's target label): `otel-collector`,
`jaeger`, `loki`, `alloy`. The metric names are the components' own:

- collector and Jaeger v2 (which is a collector): `otelcol_receiver_refused_spans_total`,
  `otelcol_exporter_send_failed_spans_total` (Jaeger's storage writes are its
  `jaeger_storage_exporter`'s sends);
- Loki: `loki_request_duration_seconds_count` by `route` and `status_code`,
  `loki_discarded_samples_total` by `reason` (lines refused by limits or validation);
- Alloy: `alloy_component_controller_running_components` by `health_type`, and its
  `loki.write` component's `loki_write_dropped_entries_total`.

Every alert here is a warning: a sick pipeline loses telemetry, not user traffic, so it goes to
the team's channel and never pages. Each aggregates by `cluster, namespace` (a store several
clusters write to never adds them up; in the cluster the label is absent), and carries the
component as its `service` label. A component a stack does not deploy has no series, so its
rules stay silent there.
"""

from __future__ import annotations

from alerts.settings import Settings
from infra.catalog import dashboard_refs as panels
from infra.rules import AlertRule, RuleGroup

GROUP = "pipeline"

COLLECTOR = "otel-collector"
JAEGER = "jaeger"
LOKI = "loki"
ALLOY = "alloy"
#: Every pipeline component with a ServiceMonitor, by its Service name.
COMPONENTS: tuple[str, ...] = (COLLECTOR, JAEGER, LOKI, ALLOY)

#: Loki's push endpoint, as its `route` label spells it.
LOKI_PUSH_ROUTE = "loki_api_v1_push"
#: Jaeger v2's exporter that writes spans to its storage backend.
JAEGER_STORAGE_EXPORTER = "jaeger_storage_exporter"


def _sel(s: Settings, service: str, *matchers: str) -> str:
    return "{" + ",".join((s.matcher("service", service), *matchers)) + "}"


def target_down(s: Settings, component: str) -> AlertRule:
    return s.alert(
        "PipelineTargetDown",
        expr=f"count by (cluster, namespace) (up{_sel(s, component)} == 0) > 0",
        severity="warning",
        service=component,
        summary=f"{component} is not answering Prometheus",
        description=(
            f"{{{{ $value }}}} {component} target(s) in {{{{ $labels.namespace }}}} failed"
            " their scrapes: the component is down or its metrics port is unreachable."
        ),
        panel=panels.PIPELINE_TARGETS,
    )


def collector_refusing_spans(s: Settings) -> AlertRule:
    w = s.rate_window
    return s.alert(
        "CollectorRefusingSpans",
        expr=(
            "sum by (cluster, namespace, receiver) (rate(otelcol_receiver_refused_spans_total"
            f"{_sel(s, COLLECTOR)}[{w}])) > 0"
        ),
        severity="warning",
        service=COLLECTOR,
        summary="The OpenTelemetry collector is refusing spans",
        description=(
            "Receiver {{ $labels.receiver }} refuses {{ $value | humanize }} spans/s (memory"
            " limiter or a full pipeline): the workloads' traces are being lost."
        ),
        panel=panels.COLLECTOR_SPANS,
    )


def collector_export_failing(s: Settings) -> AlertRule:
    w = s.rate_window
    return s.alert(
        "CollectorExportFailing",
        expr=(
            "sum by (cluster, namespace, exporter) (rate(otelcol_exporter_send_failed_spans_total"
            f"{_sel(s, COLLECTOR)}[{w}])) > 0"
        ),
        severity="warning",
        service=COLLECTOR,
        summary="The OpenTelemetry collector cannot send spans on",
        description=(
            "Exporter {{ $labels.exporter }} fails to send {{ $value | humanize }} spans/s:"
            " Jaeger is unreachable or refusing them."
        ),
        panel=panels.COLLECTOR_EXPORTS,
    )


def jaeger_storage_failing(s: Settings) -> AlertRule:
    w = s.rate_window
    exporter = s.matcher("exporter", JAEGER_STORAGE_EXPORTER)
    return s.alert(
        "JaegerStorageFailing",
        expr=(
            "sum by (cluster, namespace) (rate(otelcol_exporter_send_failed_spans_total"
            f"{_sel(s, JAEGER, exporter)}[{w}])) > 0"
        ),
        severity="warning",
        service=JAEGER,
        summary="Jaeger cannot write spans to its storage",
        description=(
            "Jaeger fails to store {{ $value | humanize }} spans/s: its Elasticsearch/OpenSearch"
            " backend is unreachable, refusing writes or out of space."
        ),
        panel=panels.JAEGER_STORAGE,
    )


def loki_push_errors(s: Settings) -> AlertRule:
    w = s.rate_window
    route = s.matcher("route", LOKI_PUSH_ROUTE)
    errors = s.matcher("status_code", "5..", "=~")
    pushes = f"loki_request_duration_seconds_count{_sel(s, LOKI, route)}"
    failed = f"loki_request_duration_seconds_count{_sel(s, LOKI, route, errors)}"
    return s.alert(
        "LokiPushErrors",
        expr=(
            f"sum by (cluster, namespace) (rate({failed}[{w}]))\n/\n"
            f"sum by (cluster, namespace) (rate({pushes}[{w}]))\n> {s.threshold('LokiPushErrors')}"
        ),
        severity="warning",
        service=LOKI,
        summary="Loki is failing log pushes",
        description=(
            "{{ $value | humanizePercentage }} of pushes to Loki are answered 5xx: the"
            " shippers retry, then drop logs."
        ),
        panel=panels.LOKI_PUSHES,
    )


def loki_discarding_logs(s: Settings) -> AlertRule:
    w = s.rate_window
    return s.alert(
        "LokiDiscardingLogs",
        expr=(
            "sum by (cluster, namespace, reason) (rate(loki_discarded_samples_total"
            f"{_sel(s, LOKI)}[{w}])) > 0"
        ),
        severity="warning",
        service=LOKI,
        summary="Loki is discarding log lines",
        description=(
            "Loki discards {{ $value | humanize }} lines/s for {{ $labels.reason }} (rate"
            " limits, line size, too-old samples): those lines are gone."
        ),
        panel=panels.LOKI_DISCARDED,
    )


def alloy_component_unhealthy(s: Settings) -> AlertRule:
    health = s.matcher("health_type", "healthy", "!=")
    return s.alert(
        "AlloyComponentUnhealthy",
        expr=(
            "sum by (cluster, namespace) (alloy_component_controller_running_components"
            f"{_sel(s, ALLOY, health)}) > 0"
        ),
        severity="warning",
        service=ALLOY,
        summary="Alloy has unhealthy components",
        description=(
            "{{ $value }} Alloy component(s) in {{ $labels.namespace }} are not healthy: some"
            " nodes' logs may not be collected."
        ),
        panel=panels.ALLOY_COMPONENTS,
    )


def alloy_dropping_logs(s: Settings) -> AlertRule:
    w = s.rate_window
    return s.alert(
        "AlloyDroppingLogs",
        expr=(
            "sum by (cluster, namespace)"
            f" (rate(loki_write_dropped_entries_total{_sel(s, ALLOY)}[{w}])) > 0"
        ),
        severity="warning",
        service=ALLOY,
        summary="Alloy is dropping log entries",
        description=(
            "Alloy drops {{ $value | humanize }} entries/s it could not write to Loki after"
            " its retries: those logs are lost."
        ),
        panel=panels.ALLOY_WRITES,
    )


def group(s: Settings) -> RuleGroup:
    return RuleGroup(
        name=GROUP,
        interval=s.platform_interval,
        rules=(
            *(target_down(s, component) for component in COMPONENTS),
            collector_refusing_spans(s),
            collector_export_failing(s),
            jaeger_storage_failing(s),
            loki_push_errors(s),
            loki_discarding_logs(s),
            alloy_component_unhealthy(s),
            alloy_dropping_logs(s),
        ),
    )
