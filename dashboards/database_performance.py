"""Database Performance (seed section 2): query duration by operation, slow queries, connection
pool usage and cache hit rate, from the backend's prom-client metrics."""

from __future__ import annotations

from grafana_foundation_sdk.builders import timeseries

from dashboards.common import (
    APPLICATION_FOLDER,
    Context,
    DashboardDoc,
    alert_line,
    at,
    default_timeseries,
    new_dashboard,
    panel_title,
    prometheus_query,
    recorded,
    render,
    selector,
)
from infra.catalog.dashboard_refs import DATABASE_PERFORMANCE as REF
from infra.text import num

#: "Slow" is the seed's 100 ms, which is one of its db_query_duration_seconds buckets: the
#: count of slower queries is the total minus that bucket, exactly.
SLOW_QUERY_BUCKET = "0.1"


def _rate(ctx: Context, series: str, *matchers: str, by: tuple[str, ...]) -> str:
    return f"{ctx.by('sum', *by)}(rate({series}{selector(ctx, *matchers)}[$__rate_interval]))"


def query_duration_timeseries(ctx: Context) -> timeseries.Panel:
    q = ctx.settings.db_quantile
    buckets = _rate(ctx, "db_query_duration_seconds_bucket", by=("operation", "le"))
    return default_timeseries(
        ctx,
        1,
        panel_title(REF, 1),
        "s",
        f"p{num(round(q * 100, 6))} database query duration per operation (select, insert, ...).",
    ).with_target(
        prometheus_query(
            ctx,
            f"histogram_quantile({num(q)}, {buckets})",
            f"p{num(round(q * 100, 6))} {{{{operation}}}}",
        )
    )


def slow_queries_timeseries(ctx: Context) -> timeseries.Panel:
    total = _rate(ctx, "db_query_duration_seconds_count", by=("operation",))
    fast = _rate(
        ctx, "db_query_duration_seconds_bucket", f'le="{SLOW_QUERY_BUCKET}"', by=("operation",)
    )
    return default_timeseries(
        ctx,
        2,
        panel_title(REF, 2),
        "ops",
        "Queries per second that took longer than 100 ms, per operation.",
    ).with_target(prometheus_query(ctx, f"{total}\n-\n{fast}", "{{operation}}"))


def connection_pool_timeseries(ctx: Context) -> timeseries.Panel:
    sel = selector(ctx)
    panel = (
        default_timeseries(
            ctx,
            3,
            panel_title(REF, 3),
            "percentunit",
            "Share of each instance's pool connections in use. DatabasePoolExhaustion fires"
            " above the dashed line.",
        )
        .min(0)
        .max(1)
        .with_target(
            prometheus_query(
                ctx,
                f"{ctx.by('sum', 'instance')}(db_pool_active_connections{sel})\n/\n"
                f"{ctx.by('sum', 'instance')}(db_pool_max_connections{sel} > 0)",
                "{{instance}}",
            )
        )
    )
    return alert_line(panel, ctx.threshold("DatabasePoolExhaustion"))


def cache_hit_rate_timeseries(ctx: Context) -> timeseries.Panel:
    hits = _rate(ctx, "cache_hits_total", by=("cache_type",))
    misses = _rate(ctx, "cache_misses_total", by=("cache_type",))
    panel = (
        default_timeseries(
            ctx,
            4,
            panel_title(REF, 4),
            "percentunit",
            f"Share of cache lookups that hit: the service's (recorded over"
            f" {ctx.settings.rate_window}; LowCacheHitRate fires below the dashed line) and"
            " per cache type.",
        )
        .min(0)
        .max(1)
        .targets(
            [
                prometheus_query(
                    ctx,
                    f"{ctx.by('max')}({recorded(ctx, ctx.records.cache_hit_ratio)})",
                    "all",
                    "A",
                ),
                prometheus_query(ctx, f"{hits}\n/\n({hits} + {misses})", "{{cache_type}}", "B"),
            ]
        )
    )
    return alert_line(panel, ctx.threshold("LowCacheHitRate"), below=True)


def build(ctx: Context) -> DashboardDoc:
    d = (
        new_dashboard(
            REF,
            ctx,
            description="The backend's database and cache: latency, slow queries, pool, hits.",
            tags=["application", "database"],
        )
        .with_panel(query_duration_timeseries(ctx).grid_pos(at(0, 0, 12, 8)))
        .with_panel(slow_queries_timeseries(ctx).grid_pos(at(12, 0, 12, 8)))
        .with_panel(connection_pool_timeseries(ctx).grid_pos(at(0, 8, 12, 8)))
        .with_panel(cache_hit_rate_timeseries(ctx).grid_pos(at(12, 8, 12, 8)))
    )
    return render(d, APPLICATION_FOLDER)
