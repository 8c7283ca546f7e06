"""Application Overview (seed section 2): request rate, error rate, response time, active users,
CPU and memory; with the backend's error logs (Loki) and its recent traces (Jaeger).

The request, error and latency panels read the recording rules the alerts read, and draw the
alerts' thresholds, so the panel an alert links to shows what fired and where the line is.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, logs, stat, table, timeseries
from grafana_foundation_sdk.models.dashboard import DashboardLinkType

from alerts.settings import Settings
from dashboards.common import (
    APPLICATION_FOLDER,
    JAEGER,
    Context,
    DashboardDoc,
    JaegerSearch,
    alert_line,
    at,
    default_logs,
    default_stat,
    default_table,
    default_timeseries,
    jaeger_explore_url,
    loki_query,
    loki_stream,
    new_dashboard,
    panel_title,
    prometheus_query,
    recorded,
    render,
    right_axis,
    selector,
    trace_service,
)
from infra.catalog.dashboard_refs import APPLICATION_OVERVIEW as REF
from infra.text import num

ERROR_LOGS_PANEL = 6
TRACES_PANEL = 7


def request_rate_timeseries(ctx: Context) -> timeseries.Panel:
    r = ctx.records
    return default_timeseries(
        ctx,
        1,
        panel_title(REF, 1),
        "reqps",
        f"Requests per second: the service's total (recorded over {ctx.settings.rate_window},"
        " as the alerts read it) and per route.",
    ).targets(
        [
            prometheus_query(
                ctx, f"{ctx.by('sum')}({recorded(ctx, r.requests)})", "all routes", "A"
            ),
            prometheus_query(
                ctx,
                f"{ctx.by('sum', 'route')}(rate(http_requests_total"
                f"{selector(ctx)}[$__rate_interval]))",
                "{{route}}",
                "B",
            ),
        ]
    )


def error_rate_timeseries(ctx: Context) -> timeseries.Panel:
    r = ctx.records
    panel = default_timeseries(
        ctx,
        2,
        panel_title(REF, 2),
        "percentunit",
        f"Share of requests answered {ctx.settings.error_status} (left; HighErrorRate fires"
        " above the dashed line) and errors per second (right).",
    ).targets(
        [
            prometheus_query(
                ctx, f"{ctx.by('max')}({recorded(ctx, r.error_ratio)})", "error ratio", "A"
            ),
            prometheus_query(ctx, f"{ctx.by('sum')}({recorded(ctx, r.errors)})", "errors/s", "B"),
        ]
    )
    return alert_line(panel, ctx.threshold("HighErrorRate")).override_by_query(
        "B", right_axis("reqps")
    )


def response_time_timeseries(ctx: Context) -> timeseries.Panel:
    r = ctx.records
    quantiles = ctx.settings.recorded_quantiles
    panel = default_timeseries(
        ctx,
        3,
        panel_title(REF, 3),
        "s",
        "Latency quantiles of the service's requests, from the recording rules."
        " SlowResponseTime fires when p95 stays above the dashed line.",
    ).targets(
        [
            prometheus_query(
                ctx,
                f"{ctx.by('max')}"
                f"({recorded(ctx, r.latency, Settings.matcher('quantile', num(q)))})",
                f"p{num(round(q * 100, 6))}",
                chr(ord("A") + i),
            )
            for i, q in enumerate(quantiles)
        ]
    )
    panel = alert_line(panel, ctx.threshold("SlowResponseTime"))
    if ctx.traces:
        panel = panel.links(
            [
                dashboard.DashboardLink("Traces of $service in this time range (Jaeger)")
                .type(DashboardLinkType.LINK)
                .url(jaeger_explore_url())
                .target_blank(True)
            ]
        )
    return panel


def active_users_stat(ctx: Context) -> stat.Panel:
    return default_stat(
        ctx,
        4,
        panel_title(REF, 4),
        "short",
        "Users active now, summed over the service's instances.",
    ).with_target(
        prometheus_query(ctx, f"{ctx.by('sum')}(active_users{selector(ctx)})", "active users")
    )


def cpu_memory_timeseries(ctx: Context) -> timeseries.Panel:
    return (
        default_timeseries(
            ctx,
            5,
            panel_title(REF, 5),
            "short",
            "CPU in cores (left) and resident memory (right) per instance, from prom-client's"
            " default process metrics.",
        )
        .axis_label("CPU cores")
        .targets(
            [
                prometheus_query(
                    ctx,
                    f"{ctx.by('sum', 'instance')}(rate(process_cpu_seconds_total"
                    f"{selector(ctx)}[$__rate_interval]))",
                    "cpu {{instance}}",
                    "A",
                ),
                prometheus_query(
                    ctx,
                    f"{ctx.by('sum', 'instance')}(process_resident_memory_bytes{selector(ctx)})",
                    "memory {{instance}}",
                    "B",
                ),
            ]
        )
        .override_by_query("B", right_axis("bytes"))
    )


def error_logs(ctx: Context) -> logs.Panel:
    description = "The service's error-level log lines (Winston JSON), newest first."
    if ctx.traces:
        description += " A line's trace_id links to its trace in Jaeger."
    return default_logs(ERROR_LOGS_PANEL, "Error logs ($service)", description).with_target(
        loki_query(loki_stream('level="error"'))
    )


def recent_traces_table(ctx: Context) -> table.Panel:
    return (
        default_table(
            TRACES_PANEL,
            "Slow traces ($service)",
            "ms",
            f"The service's latest traces slower than {ctx.threshold('SlowResponseTime'):g}s"
            " (the SlowResponseTime threshold); a trace id opens the trace.",
        )
        .datasource(JAEGER)
        .with_target(
            JaegerSearch(trace_service())
            .limit(20)
            .min_duration(f"{ctx.threshold('SlowResponseTime'):g}s")
        )
    )


def build(ctx: Context) -> DashboardDoc:
    d = (
        new_dashboard(
            REF,
            ctx,
            description="The backend at a glance: traffic, errors, latency, users, resources.",
            tags=["application"],
            refresh="30s",
        )
        .with_panel(request_rate_timeseries(ctx).grid_pos(at(0, 0, 8, 8)))
        .with_panel(error_rate_timeseries(ctx).grid_pos(at(8, 0, 8, 8)))
        .with_panel(response_time_timeseries(ctx).grid_pos(at(16, 0, 8, 8)))
        .with_panel(active_users_stat(ctx).grid_pos(at(0, 8, 6, 8)))
        .with_panel(cpu_memory_timeseries(ctx).grid_pos(at(6, 8, 18, 8)))
    )
    y = 16
    if ctx.logs:
        d = d.with_panel(error_logs(ctx).grid_pos(at(0, y, 24, 10)))
        y += 10
    if ctx.traces:
        d = d.with_panel(recent_traces_table(ctx).grid_pos(at(0, y, 24, 8)))
    return render(d, APPLICATION_FOLDER)
