"""Infrastructure (seed section 2): the service's containers' CPU, memory and network, the
estate's disks, and the scrape targets the ServiceDown and ScrapeTargetMissing alerts watch.

Metric names and labels are those kube-prometheus-stack exposes: cAdvisor through the kubelet
(`container_*`, per `namespace`, `pod`, `container`; network per pod), the kubelet's volume
statistics (`kubelet_volume_stats_*`, per `persistentvolumeclaim`) and kube-state-metrics
(`kube_pod_container_resource_*`, per `resource`). `container!=""` drops cAdvisor's pod-level
cgroup series, which would count every container twice.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import stat, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import DynamicConfigValue

from dashboards.common import (
    INFRASTRUCTURE_FOLDER,
    Context,
    DashboardDoc,
    at,
    default_stat,
    default_timeseries,
    new_dashboard,
    panel_title,
    pods,
    prometheus_query,
    render,
    selector,
    thresholds,
)
from infra.catalog.dashboard_refs import INFRASTRUCTURE as REF

CONTAINERS = ('container!=""', 'container!="POD"')
CPU = 'resource="cpu"'
MEMORY = 'resource="memory"'


def container_cpu_timeseries(ctx: Context) -> timeseries.Panel:
    return (
        default_timeseries(
            ctx,
            1,
            panel_title(REF, 1),
            "short",
            "CPU cores used by each container of the service's pods, and its CPU request.",
        )
        .axis_label("cores")
        .targets(
            [
                prometheus_query(
                    ctx,
                    f"{ctx.by('sum', 'pod', 'container')}(rate(container_cpu_usage_seconds_total"
                    f"{pods(ctx, *CONTAINERS)}[$__rate_interval]))",
                    "{{pod}} {{container}}",
                    "A",
                ),
                prometheus_query(
                    ctx,
                    f"{ctx.by('sum', 'pod', 'container')}"
                    f"(kube_pod_container_resource_requests{pods(ctx, CPU)})",
                    "{{pod}} {{container}} request",
                    "B",
                ),
            ]
        )
    )


def container_memory_timeseries(ctx: Context) -> timeseries.Panel:
    return default_timeseries(
        ctx,
        2,
        panel_title(REF, 2),
        "bytes",
        "Working set of each container of the service's pods (what the OOM killer counts),"
        " and its memory limit.",
    ).targets(
        [
            prometheus_query(
                ctx,
                f"{ctx.by('sum', 'pod', 'container')}"
                f"(container_memory_working_set_bytes{pods(ctx, *CONTAINERS)})",
                "{{pod}} {{container}}",
                "A",
            ),
            prometheus_query(
                ctx,
                f"{ctx.by('sum', 'pod', 'container')}"
                f"(kube_pod_container_resource_limits{pods(ctx, MEMORY)})",
                "{{pod}} {{container}} limit",
                "B",
            ),
        ]
    )


def network_io_timeseries(ctx: Context) -> timeseries.Panel:
    return (
        default_timeseries(
            ctx,
            3,
            panel_title(REF, 3),
            "Bps",
            "Bytes per second each of the service's pods receives (up) and sends (down).",
        )
        .targets(
            [
                prometheus_query(
                    ctx,
                    f"{ctx.by('sum', 'pod')}(rate(container_network_receive_bytes_total"
                    f"{pods(ctx)}[$__rate_interval]))",
                    "{{pod}} received",
                    "A",
                ),
                prometheus_query(
                    ctx,
                    f"{ctx.by('sum', 'pod')}(rate(container_network_transmit_bytes_total"
                    f"{pods(ctx)}[$__rate_interval]))",
                    "{{pod}} sent",
                    "B",
                ),
            ]
        )
        .override_by_query("B", [DynamicConfigValue(id_val="custom.transform", value="negative-Y")])
    )


def disk_usage_timeseries(ctx: Context) -> timeseries.Panel:
    namespaces = "|".join(("$namespace", ctx.monitoring_namespace, ctx.observability_namespace))
    sel = selector(ctx, f'namespace=~"{namespaces}"', namespace=False, service=False)
    by = ctx.by("max", "namespace", "persistentvolumeclaim")
    return (
        default_timeseries(
            ctx,
            4,
            panel_title(REF, 4),
            "percentunit",
            "Share of each PersistentVolumeClaim in use: the workloads' namespace, and the"
            f" estate's own ({ctx.monitoring_namespace}: Prometheus, Alertmanager, Grafana;"
            f" {ctx.observability_namespace}: Loki, Jaeger).",
        )
        .min(0)
        .max(1)
        .with_target(
            prometheus_query(
                ctx,
                f"{by}(kubelet_volume_stats_used_bytes{sel})\n/\n"
                f"{by}(kubelet_volume_stats_capacity_bytes{sel})",
                "{{namespace}}/{{persistentvolumeclaim}}",
            )
        )
    )


def scrape_targets_stat(ctx: Context) -> stat.Panel:
    jobs = 'job=~"' + "|".join(ctx.services) + '"'
    up = "up" + selector(ctx, jobs, namespace=False, service=False)
    return (
        default_stat(
            ctx,
            5,
            panel_title(REF, 5),
            "none",
            "Targets up and targets known per service. A service missing here has no target at"
            " all (ScrapeTargetMissing); one with fewer up than known is down (ServiceDown).",
        )
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .thresholds(thresholds((1, "green"), base="red"))
        .targets(
            [
                prometheus_query(ctx, f"{ctx.by('sum', 'job')}({up})", "{{job}} up", "A"),
                prometheus_query(ctx, f"{ctx.by('count', 'job')}({up})", "{{job}} targets", "B"),
            ]
        )
    )


def build(ctx: Context) -> DashboardDoc:
    d = (
        new_dashboard(
            REF,
            ctx,
            description="Containers, network, disks and scrape targets of the estate.",
            tags=["infrastructure"],
        )
        .with_panel(container_cpu_timeseries(ctx).grid_pos(at(0, 0, 12, 8)))
        .with_panel(container_memory_timeseries(ctx).grid_pos(at(12, 0, 12, 8)))
        .with_panel(network_io_timeseries(ctx).grid_pos(at(0, 8, 12, 8)))
        .with_panel(disk_usage_timeseries(ctx).grid_pos(at(12, 8, 12, 8)))
        .with_panel(scrape_targets_stat(ctx).grid_pos(at(0, 16, 24, 5)))
    )
    return render(d, INFRASTRUCTURE_FOLDER)
