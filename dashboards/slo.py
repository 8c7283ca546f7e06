"""SLO dashboards: one per service with SLOs (alerts/slos.py), `bh-slo-<service>`.

Each SLO gets one row of five panels at the ids infra/catalog/dashboard_refs.py fixes:
its objective, its SLI over the SLO window (30 days), the error budget left, the SLI over
time, and the burn rate over every window a burn tier reads. The burn-rate alerts link to the
last one, on which the tiers' factors are drawn as dashed lines: a tier fires while both its
windows' lines are above its factor.

Every query reads the SLO's recording rules (one error-ratio record per window, the budget
record), selected by their `slo` label: the dashboard is the service's own, so it has no
`$service` variable (where several clusters write, it has `$cluster`, dashboards/common.py).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as common_builder
from grafana_foundation_sdk.builders import dashboard, stat, timeseries
from grafana_foundation_sdk.models import common

from alerts.slos import (
    BUDGET_REMAINING_RECORD,
    ERROR_RATIO_WINDOW_RECORD,
    TIERS,
    Slo,
    error_ratio_record,
    windows,
)
from dashboards.common import (
    APPLICATION_FOLDER,
    Context,
    DashboardDoc,
    _option,
    alert_line,
    at,
    cluster_variables,
    default_stat,
    default_timeseries,
    new_dashboard,
    panel_title,
    prometheus_query,
    render,
    thresholds,
)
from infra.catalog.dashboard_refs import (
    Dashboard,
    slo_dashboard,
    slo_panel_id,
)
from infra.text import num

#: Rows are this many grid units high.
ROW_HEIGHT = 8
#: The burn factors' colours, slowest tier first.
TIER_COLOURS = ("yellow", "orange", "red", "dark-red")


def sli_selector(ctx: Context, slo: Slo) -> str:
    """`{environment=~"$environment|",slo="backend-availability"}`: one SLO's records (and
    `cluster=~"$cluster"` after the environment where several clusters write)."""
    return "{" + ",".join((*ctx.scope, f'slo="{slo.name}"')) + "}"


def _ratio(ctx: Context, slo: Slo, record: str) -> str:
    return f"{ctx.by('max')}({record}{sli_selector(ctx, slo)})"


def _record(slo: Slo, window: str) -> str:
    return ERROR_RATIO_WINDOW_RECORD if window == slo.window else error_ratio_record(window)


def _budget(slo: Slo) -> str:
    return num(float(slo.budget))


def objective_stat(ctx: Context, ref: Dashboard, slo: Slo) -> stat.Panel:
    pid = slo_panel_id(slo.sli, 1)
    return default_stat(
        ctx,
        pid,
        panel_title(ref, pid),
        "percentunit",
        f"The objective: {slo.describe()} over {slo.window} (blue-harvest:slos in the stack"
        " file). Shown while the SLO's records exist.",
    ).with_target(
        prometheus_query(
            ctx,
            f"0 * {_ratio(ctx, slo, ERROR_RATIO_WINDOW_RECORD)} + {num(slo.objective)}",
            "objective",
        )
    )


def window_sli_stat(ctx: Context, ref: Dashboard, slo: Slo) -> stat.Panel:
    pid = slo_panel_id(slo.sli, 2)
    return (
        default_stat(
            ctx,
            pid,
            panel_title(ref, pid),
            "percentunit",
            f"The SLI over the last {slo.window}: red below the objective ({num(slo.objective)}).",
        )
        .decimals(3)
        .thresholds(thresholds((slo.objective, "green"), base="red"))
        .with_target(
            prometheus_query(ctx, f"1 - {_ratio(ctx, slo, ERROR_RATIO_WINDOW_RECORD)}", "SLI", "A")
        )
    )


def budget_stat(ctx: Context, ref: Dashboard, slo: Slo) -> stat.Panel:
    pid = slo_panel_id(slo.sli, 3)
    return (
        default_stat(
            ctx,
            pid,
            panel_title(ref, pid),
            "percentunit",
            f"The share of the {slo.window} error budget ({_budget(slo)} of requests) not yet"
            " spent: 100% with no bad request, 0% when the SLI meets the objective exactly,"
            " negative once the objective is missed.",
        )
        .thresholds(thresholds((0, "orange"), (0.25, "green"), base="red"))
        .with_target(
            prometheus_query(
                ctx, f"{ctx.by('max')}({BUDGET_REMAINING_RECORD}{sli_selector(ctx, slo)})", "budget"
            )
        )
    )


def sli_timeseries(ctx: Context, ref: Dashboard, slo: Slo) -> timeseries.Panel:
    pid = slo_panel_id(slo.sli, 4)
    shown = (TIERS[0].short_window, TIERS[0].long_window, TIERS[2].long_window, slo.window)
    panel = default_timeseries(
        ctx,
        pid,
        panel_title(ref, pid),
        "percentunit",
        f"{slo.describe().split('%', 1)[1].strip().capitalize()}, over"
        f" {', '.join(shown)}; the dashed line is the objective ({num(slo.objective)}).",
    ).targets(
        [
            prometheus_query(ctx, f"1 - {_ratio(ctx, slo, _record(slo, w))}", w, chr(ord("A") + i))
            for i, w in enumerate(shown)
        ]
    )
    return alert_line(panel, slo.objective, below=True)


def burn_rate_timeseries(ctx: Context, ref: Dashboard, slo: Slo) -> timeseries.Panel:
    pid = slo_panel_id(slo.sli, 5)
    tiers = sorted(TIERS, key=lambda t: t.factor)
    described = "; ".join(
        f"{t.factor:g}x over {t.long_window} and {t.short_window}"
        f" ({'page' if slo.severity(t) == 'critical' else 'ticket'})"
        for t in sorted(TIERS, key=lambda t: -t.factor)
    )
    return (
        default_timeseries(
            ctx,
            pid,
            panel_title(ref, pid),
            "x",
            "How many times faster than the budget allows (1x spends it exactly over"
            f" {slo.window}) the SLO burns, per window. Tiers: {described}. A tier fires while"
            " both its windows are above its dashed line.",
        )
        .targets(
            [
                prometheus_query(
                    ctx,
                    f"{_ratio(ctx, slo, error_ratio_record(w))} / {_budget(slo)}",
                    w,
                    chr(ord("A") + i),
                )
                for i, w in enumerate(windows())
            ]
        )
        .thresholds(
            thresholds(
                *((t.factor, c) for t, c in zip(tiers, TIER_COLOURS, strict=True)), base="green"
            )
        )
        .thresholds_style(
            common_builder.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)
        )
    )


def build_service(ctx: Context, service: str, slos: tuple[Slo, ...]) -> DashboardDoc:
    ref = slo_dashboard(service, tuple(s.sli for s in slos))
    d = new_dashboard(
        ref,
        ctx,
        description=f"{service}'s service level objectives: objective, SLI, error budget"
        " and burn rate per window (docs/slos.md).",
        tags=["slo"],
        time_from="now-7d",
        refresh="1m",
    ).variables(
        [
            dashboard.CustomVariable("environment")
            .label("Environment")
            .values(ctx.environment)
            .current(_option(ctx.environment))
            .options([_option(ctx.environment)]),
            *cluster_variables(ctx),
        ]
    )
    for row, slo in enumerate(sorted(slos, key=lambda s: slo_panel_id(s.sli, 1))):
        y = row * ROW_HEIGHT
        d = (
            d.with_panel(objective_stat(ctx, ref, slo).grid_pos(at(0, y, 4, 4)))
            .with_panel(window_sli_stat(ctx, ref, slo).grid_pos(at(0, y + 4, 4, 4)))
            .with_panel(budget_stat(ctx, ref, slo).grid_pos(at(4, y, 4, ROW_HEIGHT)))
            .with_panel(sli_timeseries(ctx, ref, slo).grid_pos(at(8, y, 8, ROW_HEIGHT)))
            .with_panel(burn_rate_timeseries(ctx, ref, slo).grid_pos(at(16, y, 8, ROW_HEIGHT)))
        )
    return render(d, APPLICATION_FOLDER)


def build(ctx: Context, slos: tuple[Slo, ...]) -> list[DashboardDoc]:
    """One dashboard per service with SLOs, by service name."""
    services = sorted({s.service for s in slos})
    return [build_service(ctx, svc, tuple(s for s in slos if s.service == svc)) for svc in services]
