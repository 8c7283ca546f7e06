"""Estate Health (not in the seed): the telemetry pipeline's own health, the panels the
`pipeline` alerts (alerts/pipeline.py) link to.

The OpenTelemetry collector, Jaeger v2, Loki and Alloy are scraped through their own
ServiceMonitors, so their series carry the Kubernetes Service's name as `service` and live in
the observability namespace. Metric names are the components' own (infra/plan/
metrics_catalog.py: PIPELINE). The dashboard has no `$namespace` or `$service` variable: it is
about the estate, not a workload.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as common_builder
from grafana_foundation_sdk.builders import dashboard, stat, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DynamicConfigValue,
)

from alerts.pipeline import (
    ALLOY,
    COLLECTOR,
    COMPONENTS,
    JAEGER,
    JAEGER_STORAGE_EXPORTER,
    LOKI,
    LOKI_PUSH_ROUTE,
)
from dashboards.common import (
    INFRASTRUCTURE_FOLDER,
    Context,
    DashboardDoc,
    at,
    default_stat,
    default_timeseries,
    panel_title,
    prometheus_query,
    render,
    scope_variables,
    thresholds,
)
from infra.catalog.dashboard_refs import ESTATE_HEALTH as REF

RATE = "[$__rate_interval]"


def _sel(ctx: Context, service: str | None, *matchers: str) -> str:
    """`{environment=~"$environment|",namespace="<observability>",service="<component>",...}`
    (with `cluster=~"$cluster"` after the environment where several clusters write)."""
    parts = [*ctx.scope, f'namespace="{ctx.observability_namespace}"']
    if service is not None:
        parts.append(f'service="{service}"')
    return "{" + ",".join([*parts, *matchers]) + "}"


def _negative() -> list[DynamicConfigValue]:
    """Draw a failure series below the axis, in red, under its success series."""
    return [
        DynamicConfigValue(id_val="custom.transform", value="negative-Y"),
        DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": "red"}),
    ]


def targets_stat(ctx: Context) -> stat.Panel:
    components = 'service=~"' + "|".join(COMPONENTS) + '"'
    up = f"up{_sel(ctx, None, components)}"
    return (
        default_stat(
            ctx,
            1,
            panel_title(REF, 1),
            "none",
            "Targets up per pipeline component (PipelineTargetDown warns after 10m with one"
            " down). A component missing here is not deployed, or its ServiceMonitor is gone.",
        )
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .thresholds(thresholds((1, "green"), base="red"))
        .targets(
            [
                prometheus_query(ctx, f"{ctx.by('sum', 'service')}({up})", "{{service}} up", "A"),
                prometheus_query(
                    ctx, f"{ctx.by('count', 'service')}({up})", "{{service}} targets", "B"
                ),
            ]
        )
    )


def collector_spans_timeseries(ctx: Context) -> timeseries.Panel:
    sel = _sel(ctx, COLLECTOR)
    return (
        default_timeseries(
            ctx,
            2,
            panel_title(REF, 2),
            "short",
            "Spans per second the collector's receivers take in (up) and refuse (down, red):"
            " refusals are traces lost before sampling (CollectorRefusingSpans).",
        )
        .axis_label("spans/s")
        .targets(
            [
                prometheus_query(
                    ctx,
                    f"{ctx.by('sum', 'receiver')}"
                    f"(rate(otelcol_receiver_accepted_spans_total{sel}{RATE}))",
                    "{{receiver}} accepted",
                    "A",
                ),
                prometheus_query(
                    ctx,
                    f"{ctx.by('sum', 'receiver')}"
                    f"(rate(otelcol_receiver_refused_spans_total{sel}{RATE}))",
                    "{{receiver}} refused",
                    "B",
                ),
            ]
        )
        .override_by_query("B", _negative())
    )


def _sent_failed(
    ctx: Context, service: str, *matchers: str
) -> list[cogbuilder.Builder[cogvariants.Dataquery]]:
    sel = _sel(ctx, service, *matchers)
    return [
        prometheus_query(
            ctx,
            f"{ctx.by('sum', 'exporter')}(rate(otelcol_exporter_sent_spans_total{sel}{RATE}))",
            "{{exporter}} sent",
            "A",
        ),
        prometheus_query(
            ctx,
            f"{ctx.by('sum', 'exporter')}"
            f"(rate(otelcol_exporter_send_failed_spans_total{sel}{RATE}))",
            "{{exporter}} failed",
            "B",
        ),
    ]


def collector_exports_timeseries(ctx: Context) -> timeseries.Panel:
    return (
        default_timeseries(
            ctx,
            3,
            panel_title(REF, 3),
            "short",
            "Spans per second the collector sends on to Jaeger (up) and fails to send (down,"
            " red; CollectorExportFailing).",
        )
        .axis_label("spans/s")
        .targets(_sent_failed(ctx, COLLECTOR))
        .override_by_query("B", _negative())
    )


def jaeger_storage_timeseries(ctx: Context) -> timeseries.Panel:
    exporter = f'exporter="{JAEGER_STORAGE_EXPORTER}"'
    return (
        default_timeseries(
            ctx,
            4,
            panel_title(REF, 4),
            "short",
            "Spans per second Jaeger writes to its storage (up) and fails to write (down, red;"
            " JaegerStorageFailing).",
        )
        .axis_label("spans/s")
        .targets(_sent_failed(ctx, JAEGER, exporter))
        .override_by_query("B", _negative())
    )


def loki_pushes_timeseries(ctx: Context) -> timeseries.Panel:
    sel = _sel(ctx, LOKI, f'route="{LOKI_PUSH_ROUTE}"')
    return (
        default_timeseries(
            ctx,
            5,
            panel_title(REF, 5),
            "reqps",
            "Push requests per second Loki answers, by status code: 5xx are pushes the"
            " shippers must retry (LokiPushErrors above 5% of them).",
        )
        .stacking(common_builder.StackingConfig().mode(common.StackingMode.NORMAL))
        .with_target(
            prometheus_query(
                ctx,
                f"{ctx.by('sum', 'status_code')}"
                f"(rate(loki_request_duration_seconds_count{sel}{RATE}))",
                "{{status_code}}",
            )
        )
    )


def loki_discarded_timeseries(ctx: Context) -> timeseries.Panel:
    return default_timeseries(
        ctx,
        6,
        panel_title(REF, 6),
        "short",
        "Log lines per second Loki discards, by reason (rate limits, line size, samples too"
        " old): those lines are gone (LokiDiscardingLogs).",
    ).with_target(
        prometheus_query(
            ctx,
            f"{ctx.by('sum', 'reason')}(rate(loki_discarded_samples_total{_sel(ctx, LOKI)}{RATE}))",
            "{{reason}}",
        )
    )


def alloy_components_timeseries(ctx: Context) -> timeseries.Panel:
    return default_timeseries(
        ctx,
        7,
        panel_title(REF, 7),
        "short",
        "Alloy components across the DaemonSet, by health; anything not healthy means some"
        " node's logs may not be collected (AlloyComponentUnhealthy).",
    ).with_target(
        prometheus_query(
            ctx,
            f"{ctx.by('sum', 'health_type')}(alloy_component_controller_running_components"
            f"{_sel(ctx, ALLOY)})",
            "{{health_type}}",
        )
    )


def alloy_writes_timeseries(ctx: Context) -> timeseries.Panel:
    sel = _sel(ctx, ALLOY)
    return (
        default_timeseries(
            ctx,
            8,
            panel_title(REF, 8),
            "short",
            "Log entries per second Alloy sends to Loki (up) and drops after its retries"
            " (down, red; AlloyDroppingLogs).",
        )
        .axis_label("entries/s")
        .targets(
            [
                prometheus_query(
                    ctx,
                    f"{ctx.by('sum').rstrip()} (rate(loki_write_sent_entries_total{sel}{RATE}))",
                    "sent",
                    "A",
                ),
                prometheus_query(
                    ctx,
                    f"{ctx.by('sum').rstrip()} (rate(loki_write_dropped_entries_total{sel}{RATE}))",
                    "dropped",
                    "B",
                ),
            ]
        )
        .override_by_query("B", _negative())
    )


def build(ctx: Context) -> DashboardDoc:
    d = (
        dashboard.Dashboard(REF.title)
        .uid(REF.uid)
        .description(
            "The telemetry pipeline's own health: the OpenTelemetry collector, Jaeger, Loki and"
            " Alloy."
        )
        .tags(["blue-harvest", "infrastructure", "meta-monitoring"])
        .readonly()
        .timezone("browser")
        .time("now-6h", "now")
        .refresh("1m")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .variables(scope_variables(ctx))  # the environment (and the cluster) only
        .link(
            dashboard.DashboardLink("Blue Harvest")
            .type(DashboardLinkType.DASHBOARDS)
            .tags(["blue-harvest"])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
        .with_panel(targets_stat(ctx).grid_pos(at(0, 0, 24, 5)))
        .with_panel(collector_spans_timeseries(ctx).grid_pos(at(0, 5, 12, 8)))
        .with_panel(collector_exports_timeseries(ctx).grid_pos(at(12, 5, 12, 8)))
        .with_panel(jaeger_storage_timeseries(ctx).grid_pos(at(0, 13, 12, 8)))
        .with_panel(loki_pushes_timeseries(ctx).grid_pos(at(12, 13, 12, 8)))
        .with_panel(loki_discarded_timeseries(ctx).grid_pos(at(0, 21, 12, 8)))
        .with_panel(alloy_components_timeseries(ctx).grid_pos(at(12, 21, 12, 8)))
        .with_panel(alloy_writes_timeseries(ctx).grid_pos(at(0, 29, 24, 8)))
    )
    return render(d, INFRASTRUCTURE_FOLDER)
