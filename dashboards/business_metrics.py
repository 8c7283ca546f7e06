"""Business Metrics (seed section 2): signups and posts per day, active users per hour, and
engagement (posts and requests per active user).

"Per day" panels show two readings: the count over the trailing 24 hours, and the current pace
(the last minutes' rate, times a day). A spike shows in the pace at once; the count says what
the day amounted to. Counters prom-client creates on their first increment (posts) read as 0
rather than as no data, as in the NoPostsCreated alert.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import timeseries

from dashboards.common import (
    BUSINESS_FOLDER,
    Context,
    DashboardDoc,
    at,
    default_timeseries,
    new_dashboard,
    panel_title,
    prometheus_query,
    recorded,
    render,
    selector,
)
from infra.catalog.dashboard_refs import BUSINESS_METRICS as REF

DAY = 86400


def signups_per_day_timeseries(ctx: Context) -> timeseries.Panel:
    return default_timeseries(
        ctx,
        1,
        panel_title(REF, 1),
        "short",
        "Signups over the last 24 hours, and the current pace per day (the rate SignupSpike"
        f" watches, recorded over {ctx.settings.rate_window}).",
    ).targets(
        [
            prometheus_query(
                ctx,
                f"{ctx.by('sum')}(increase(user_signups_total{selector(ctx)}[1d])) or vector(0)",
                "last 24 hours",
                "A",
            ),
            prometheus_query(
                ctx,
                f"{ctx.by('sum')}({recorded(ctx, ctx.records.signups)}) * {DAY}",
                "pace per day",
                "B",
            ),
        ]
    )


def posts_per_day_timeseries(ctx: Context) -> timeseries.Panel:
    return default_timeseries(
        ctx,
        2,
        panel_title(REF, 2),
        "short",
        "Posts over the last 24 hours, and the current pace per day by post type.",
    ).targets(
        [
            prometheus_query(
                ctx,
                f"{ctx.by('sum')}(increase(posts_created_total{selector(ctx)}[1d])) or vector(0)",
                "last 24 hours",
                "A",
            ),
            prometheus_query(
                ctx,
                f"{ctx.by('sum', 'post_type')}(rate(posts_created_total"
                f"{selector(ctx)}[$__rate_interval])) * {DAY}",
                "pace per day, type {{post_type}}",
                "B",
            ),
        ]
    )


def active_users_per_hour_timeseries(ctx: Context) -> timeseries.Panel:
    users = f"{ctx.by('sum')}(active_users{selector(ctx)})"
    return default_timeseries(
        ctx,
        3,
        panel_title(REF, 3),
        "short",
        "Active users over the last hour: the peak and the average of the service's total.",
    ).targets(
        [
            prometheus_query(ctx, f"max_over_time({users}[1h:])", "peak in the hour", "A"),
            prometheus_query(ctx, f"avg_over_time({users}[1h:])", "average in the hour", "B"),
        ]
    )


def engagement_timeseries(ctx: Context) -> timeseries.Panel:
    users = f"({ctx.by('sum')}(active_users{selector(ctx)}) > 0)"
    return default_timeseries(
        ctx,
        4,
        panel_title(REF, 4),
        "short",
        "Posts per active user per hour, and requests per active user per minute.",
    ).targets(
        [
            prometheus_query(
                ctx,
                f"{ctx.by('sum')}(rate(posts_created_total{selector(ctx)}[$__rate_interval]))"
                f" * 3600\n/\n{users}",
                "posts per active user per hour",
                "A",
            ),
            prometheus_query(
                ctx,
                f"{ctx.by('sum')}({recorded(ctx, ctx.records.requests)}) * 60\n/\n{users}",
                "requests per active user per minute",
                "B",
            ),
        ]
    )


def build(ctx: Context) -> DashboardDoc:
    d = (
        new_dashboard(
            REF,
            ctx,
            description="Signups, posts, active users and engagement.",
            tags=["business"],
            time_from="now-7d",
            refresh="5m",
        )
        .with_panel(signups_per_day_timeseries(ctx).grid_pos(at(0, 0, 12, 8)))
        .with_panel(posts_per_day_timeseries(ctx).grid_pos(at(12, 0, 12, 8)))
        .with_panel(active_users_per_hour_timeseries(ctx).grid_pos(at(0, 8, 12, 8)))
        .with_panel(engagement_timeseries(ctx).grid_pos(at(12, 8, 12, 8)))
    )
    return render(d, BUSINESS_FOLDER)
