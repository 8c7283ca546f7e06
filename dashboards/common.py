"""What every Blue Harvest dashboard shares: data sources, selectors, template variables,
panel defaults, folders, and the DashboardDoc record the renderers and the component take.

As in the grafana-foundation-sdk examples, the per-dashboard modules hold one function per
panel (`<what>_<paneltype>()`) and place each panel where the dashboard is assembled; the
defaults live here, so that a panel function says only what is particular to it.

Selectors. Every query reads `$namespace` and `$service` (the `job` label the ServiceMonitors
set), and `environment=~"$environment|"`: a stack's own Prometheus has no `environment` label
on its series (the chart sets it as an external label, added only on the way out), so the
matcher also accepts the label's absence; on a Grafana that reads several environments
through a central store (an external Grafana), the same dashboards then select one.

Several clusters. Where more than one cluster writes to the stack's metrics store
(`metrics.store: amp` with `metrics.amp.otherClusters`: `Context.multi_cluster`), the Prometheus
queries read the workspace (the `bh-amp` data source, the only one holding every cluster's
series) instead of the cluster's own Prometheus, the dashboards gain a `$cluster` variable
(several values, All by default), every selector adds `cluster=~"$cluster"`, and every
aggregation keeps `cluster` (its legend says which), so that clusters are never added
together. With one cluster nothing of this appears: the dashboards are what they were.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from grafana_foundation_sdk.builders import (
    common as common_builder,
)
from grafana_foundation_sdk.builders import (
    dashboard,
    logs,
    loki,
    prometheus,
    stat,
    table,
    timeseries,
)
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DataSourceRef,
    DynamicConfigValue,
    GridPos,
    Threshold,
    ThresholdsMode,
    VariableHide,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

from alerts.recording import Records, records
from alerts.settings import Settings
from infra import text
from infra.catalog import dashboard_refs
from infra.config.model import EstateConfig
from infra.naming import (
    DATASOURCE_UIDS,
    LOKI_CONTAINER_LABEL,
    LOKI_ENVIRONMENT_LABEL,
    LOKI_NAMESPACE_LABEL,
    TRACE_SERVICE_PREFIX,
)

# --------------------------------------------------------------------------- data sources

PROMETHEUS = DataSourceRef(type_val="prometheus", uid=DATASOURCE_UIDS["prometheus"])
#: The Amazon Managed Service for Prometheus workspace (metrics.store amp): every cluster's
#: series, each with its `cluster` external label.
AMP = DataSourceRef(type_val="prometheus", uid=DATASOURCE_UIDS["amp"])
LOKI = DataSourceRef(type_val="loki", uid=DATASOURCE_UIDS["loki"])
JAEGER = DataSourceRef(type_val="jaeger", uid=DATASOURCE_UIDS["jaeger"])

#: Loki stream labels, as the log shipper (Alloy, infra/render/loki.py) sets them: Kubernetes
#: metadata, the stack's environment, and Winston's `level` (the one JSON field made a label).
#: A workload's container is named after its service.
LOKI_STREAM_LABELS = (
    f'{LOKI_ENVIRONMENT_LABEL}="$environment"',
    f'{LOKI_NAMESPACE_LABEL}="$namespace"',
    f'{LOKI_CONTAINER_LABEL}="$service"',
)

# --------------------------------------------------------------------------- folders


@dataclass(frozen=True)
class Folder:
    """A Grafana folder: the sidecar's `grafana_folder` annotation, or an API-managed folder."""

    uid: str
    title: str


APPLICATION_FOLDER = Folder(uid="bh-application", title="Blue Harvest Application")
BUSINESS_FOLDER = Folder(uid="bh-business", title="Blue Harvest Business")
INFRASTRUCTURE_FOLDER = Folder(uid="bh-infrastructure", title="Blue Harvest Infrastructure")

# --------------------------------------------------------------------------- the record

#: Top-level fields Grafana sets itself on save; left out so an unchanged dashboard never diffs.
VOLATILE_FIELDS = ("id", "version", "iteration")


def canonical_json(model: Mapping[str, Any]) -> str:
    """Sorted keys, two-space indent, a final newline, no volatile top-level fields."""
    return text.canonical_json({k: v for k, v in model.items() if k not in VOLATILE_FIELDS})


@dataclass(frozen=True, eq=False)
class DashboardDoc:
    """One rendered dashboard: identity, folder, and its JSON model (plain data, not mutated)."""

    uid: str
    title: str
    folder: Folder
    json: dict[str, Any]

    @property
    def text(self) -> str:
        """The canonical JSON the ConfigMap and the Grafana API receive."""
        return canonical_json(self.json)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DashboardDoc) and (
            (self.uid, self.title, self.folder, self.text)
            == (other.uid, other.title, other.folder, other.text)
        )

    def __hash__(self) -> int:
        return hash((self.uid, self.text))


def render(builder: dashboard.Dashboard, folder: Folder) -> DashboardDoc:
    """Serialise a built dashboard with the SDK's encoder and wrap it in a DashboardDoc."""
    model: dict[str, Any] = json.loads(
        JSONEncoder(sort_keys=True, indent=2).encode(builder.build())
    )
    for field in VOLATILE_FIELDS:
        model.pop(field, None)
    return DashboardDoc(uid=model["uid"], title=model["title"], folder=folder, json=model)


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class Context:
    """What the dashboards read from a stack's config, computed once."""

    environment: str
    namespace: str
    monitoring_namespace: str
    observability_namespace: str
    #: Every service with a /metrics target, sorted (the Scrape targets panel's jobs).
    services: tuple[str, ...]
    #: The alert settings: thresholds drawn on panels, quantiles, the backend's name.
    settings: Settings
    #: The recording rules' names, so that panels read what the alerts read.
    records: Records
    #: Loki and Jaeger are deployed (their panels and links exist only then).
    logs: bool
    traces: bool
    #: Other clusters write to the same metrics store (AmpPlan.multi_cluster): the Prometheus
    #: queries read the workspace and select `$cluster`.
    multi_cluster: bool = False

    @classmethod
    def from_config(
        cls, config: EstateConfig, settings: Settings | None = None, *, multi_cluster: bool
    ) -> Context:
        """`settings`: the alerts' settings already built for `config` (by the estate's
        plan), so the stack's overrides are read once; built here when not given.
        `multi_cluster`: the metrics store's plan says other clusters share it
        (AmpPlan.multi_cluster), taken from the plan, never planned again here."""
        if settings is None:
            source = f"stacks/Pulumi.{config.environment}.yaml"
            settings = Settings.from_config(config, source=source)
        return cls(
            environment=config.environment,
            namespace=config.cluster.namespace,
            monitoring_namespace=config.metrics.namespace,
            observability_namespace=config.cluster.observability_namespace,
            services=config.scraped_services,
            settings=settings,
            records=records(settings),
            logs=config.loki.enabled,
            traces=config.tracing.enabled,
            multi_cluster=multi_cluster,
        )

    @property
    def backend(self) -> str:
        return self.settings.backend

    @property
    def prometheus(self) -> DataSourceRef:
        """The data source every Prometheus query and panel reads: the cluster's Prometheus,
        or, with several clusters, the workspace they all write to."""
        return AMP if self.multi_cluster else PROMETHEUS

    @property
    def scope(self) -> tuple[str, ...]:
        """The matchers every Prometheus selector starts with: the environment, and with
        several clusters `cluster=~"$cluster"`."""
        return (ENVIRONMENT, CLUSTER) if self.multi_cluster else (ENVIRONMENT,)

    def by(self, op: str, *labels: str) -> str:
        """An aggregation up to its operand's `(`: `sum`, `sum by (route) `. With several
        clusters `cluster` is kept first: `sum by (cluster) `, `sum by (cluster, route) `."""
        kept = (CLUSTER_LABEL, *labels) if self.multi_cluster else labels
        return f"{op} by ({', '.join(kept)}) " if kept else op

    def legend(self, legend: str) -> str:
        """A series' legend; with several clusters it starts with the series' cluster."""
        return f"{{{{{CLUSTER_LABEL}}}}} {legend}" if self.multi_cluster else legend

    def threshold(self, alert: str) -> float:
        """The alert's threshold, to draw on the panel the alert links to."""
        threshold = self.settings.tuning[alert].threshold
        if threshold is None:
            raise KeyError(f"{alert} has no threshold")
        return threshold.value


# --------------------------------------------------------------------------- selectors

ENVIRONMENT = 'environment=~"$environment|"'
#: Prometheus's external label naming the cluster a series comes from (absent in the
#: cluster's own TSDB) and the dashboards' variable selecting it.
CLUSTER_LABEL = "cluster"
CLUSTER = f'{CLUSTER_LABEL}=~"$cluster"'
NAMESPACE = 'namespace="$namespace"'
SERVICE = 'job="$service"'


def selector(ctx: Context, *matchers: str, namespace: bool = True, service: bool = True) -> str:
    """`{environment=~"$environment|",namespace="$namespace",job="$service",...}`, with
    `cluster=~"$cluster"` after the environment where several clusters write."""
    parts = list(ctx.scope)
    if namespace:
        parts.append(NAMESPACE)
    if service:
        parts.append(SERVICE)
    return "{" + ",".join([*parts, *matchers]) + "}"


def recorded(ctx: Context, record: str, *matchers: str) -> str:
    """A recording rule's series for `$service` (selected by `job`, as the alerts read them)."""
    return record + selector(ctx, *matchers, namespace=False)


def pods(ctx: Context, *matchers: str) -> str:
    """cAdvisor and kube-state-metrics series of `$service`'s pods (`<deployment>-<rs>-<pod>`)."""
    return selector(ctx, 'pod=~"$service-.+"', *matchers, service=False)


# --------------------------------------------------------------------------- queries


def prometheus_query(
    ctx: Context, expr: str, legend: str, ref_id: str = "A"
) -> prometheus.Dataquery:
    """A range query on the stack's Prometheus data source (`Context.prometheus`); with
    several clusters its legend names the cluster (`Context.legend`)."""
    return (
        prometheus.Dataquery()
        .datasource(ctx.prometheus)
        .expr(expr)
        .legend_format(ctx.legend(legend))
        .ref_id(ref_id)
        .range()
    )


def loki_stream(*matchers: str) -> str:
    """`{environment="$environment", namespace="$namespace", container="$service", ...}`."""
    return "{" + ", ".join((*LOKI_STREAM_LABELS, *matchers)) + "}"


def loki_query(expr: str, ref_id: str = "A") -> loki.Dataquery:
    return loki.Dataquery().datasource(LOKI).expr(expr).ref_id(ref_id)


class JaegerQuery(cogvariants.Dataquery):
    """A Jaeger data source search (the SDK has no Jaeger query type): `queryType: search`."""

    def __init__(self, *, ref_id: str, service: str, limit: int, min_duration: str | None):
        self.ref_id = ref_id
        self.service = service
        self.limit = limit
        self.min_duration = min_duration

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "datasource": JAEGER.to_json(),
            "limit": self.limit,
            "queryType": "search",
            "refId": self.ref_id,
            "service": self.service,
        }
        if self.min_duration is not None:
            payload["minDuration"] = self.min_duration
        return payload


class JaegerSearch(cogbuilder.Builder[cogvariants.Dataquery]):
    """Builds a JaegerQuery: the traces of one service, newest first."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._limit = 20
        self._min_duration: str | None = None
        self._ref_id = "A"

    def limit(self, limit: int) -> JaegerSearch:
        self._limit = limit
        return self

    def min_duration(self, duration: str) -> JaegerSearch:
        self._min_duration = duration
        return self

    def build(self) -> cogvariants.Dataquery:
        return JaegerQuery(
            ref_id=self._ref_id,
            service=self._service,
            limit=self._limit,
            min_duration=self._min_duration,
        )


def trace_service() -> str:
    return f"{TRACE_SERVICE_PREFIX}$service"


def jaeger_explore_url() -> str:
    """Grafana Explore on the Jaeger data source, searching `$service`'s traces in the time range
    of the panel. Variables stay as `${...}` so Grafana interpolates them when the link opens."""
    pane = {
        "traces": {
            "datasource": JAEGER.uid,
            "queries": [
                {
                    "datasource": JAEGER.to_json(),
                    "queryType": "search",
                    "refId": "A",
                    "service": "blue-harvest-${service}",
                }
            ],
            "range": {"from": "${__from}", "to": "${__to}"},
        }
    }
    panes = quote(json.dumps(pane, sort_keys=True, separators=(",", ":")), safe="${}[]:,_.-")
    return f"/explore?schemaVersion=1&orgId=1&panes={panes}"


# --------------------------------------------------------------------------- panels


def at(x: int, y: int, w: int, h: int) -> GridPos:
    """A grid position (24 columns); panels are placed where the dashboard is assembled."""
    return GridPos(x=x, y=y, w=w, h=h)


def thresholds(*steps: tuple[float, str], base: str = "green") -> dashboard.ThresholdsConfig:
    """Absolute thresholds from `base`, e.g. an alert's threshold in red."""
    return (
        dashboard.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=None, color=base), *(Threshold(v, c) for v, c in steps)])
    )


def default_timeseries(
    ctx: Context, panel_id: int, title: str, unit: str, description: str
) -> timeseries.Panel:
    """A line chart with the house defaults: legend as a table of last/max, shared tooltip."""
    return (
        timeseries.Panel()
        .id(panel_id)
        .title(title)
        .description(description)
        .datasource(ctx.prometheus)
        .unit(unit)
        .line_width(1)
        .fill_opacity(10)
        .show_points(common.VisibilityMode.NEVER)
        .draw_style(common.GraphDrawStyle.LINE)
        .span_nulls(False)
        .legend(
            common_builder.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.TABLE)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["lastNotNull", "max"])
        )
        .tooltip(
            common_builder.VizTooltipOptions()
            .mode(common.TooltipDisplayMode.MULTI)
            .sort(common.SortOrder.DESCENDING)
        )
        .thresholds_style(
            common_builder.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.OFF)
        )
    )


def alert_line(panel: timeseries.Panel, value: float, *, below: bool = False) -> timeseries.Panel:
    """Draw an alert's threshold as a dashed line: the alert fires above it (or `below` it)."""
    steps = thresholds((value, "green"), base="red") if below else thresholds((value, "red"))
    return panel.thresholds(steps).thresholds_style(
        common_builder.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)
    )


def right_axis(unit: str) -> list[DynamicConfigValue]:
    """Override properties for a second series in another unit, on the right axis."""
    return [
        DynamicConfigValue(id_val="unit", value=unit),
        DynamicConfigValue(id_val="custom.axisPlacement", value="right"),
        DynamicConfigValue(id_val="custom.thresholdsStyle", value={"mode": "off"}),
    ]


def default_stat(
    ctx: Context, panel_id: int, title: str, unit: str, description: str
) -> stat.Panel:
    return (
        stat.Panel()
        .id(panel_id)
        .title(title)
        .description(description)
        .datasource(ctx.prometheus)
        .unit(unit)
        .graph_mode(common.BigValueGraphMode.AREA)
        .color_mode(common.BigValueColorMode.VALUE)
        .reduce_options(common_builder.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def default_logs(panel_id: int, title: str, description: str) -> logs.Panel:
    """Log lines, newest first, with details (derived fields link trace ids to Jaeger)."""
    return (
        logs.Panel()
        .id(panel_id)
        .title(title)
        .description(description)
        .datasource(LOKI)
        .show_time(True)
        .wrap_log_message(True)
        .enable_log_details(True)
        .prettify_log_message(False)
        .sort_order(common.LogsSortOrder.DESCENDING)
        .dedup_strategy(common.LogsDedupStrategy.NONE)
    )


def default_table(panel_id: int, title: str, unit: str, description: str) -> table.Panel:
    return table.Panel().id(panel_id).title(title).description(description).unit(unit)


# --------------------------------------------------------------------------- dashboards


def panel_title(ref: dashboard_refs.Dashboard, panel_id: int) -> str:
    """The title dashboard_refs gives the panel alerts link to (the contract's wording)."""
    for panel in ref.panels:
        if panel.id == panel_id:
            return panel.title
    raise KeyError(f"dashboard {ref.uid} has no panel {panel_id} in dashboard_refs")


def _option(value: str) -> VariableOption:
    return VariableOption(selected=True, text=value, value=value)


def cluster_variables(ctx: Context) -> list[cogbuilder.Builder[Any]]:
    """`$cluster` where several clusters write to the metrics store (none otherwise): the
    clusters the workspace holds, several at once, All by default."""
    if not ctx.multi_cluster:
        return []
    query = f"label_values(up, {CLUSTER_LABEL})"
    return [
        dashboard.QueryVariable(CLUSTER_LABEL)
        .label("Cluster")
        .description(
            "The clusters writing to the metrics store (Prometheus's `cluster` external label)."
        )
        .datasource(ctx.prometheus)
        .query(query)
        .definition(query)
        .multi(True)
        .include_all(True)
        .current(VariableOption(selected=True, text=["All"], value=["$__all"]))
        .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(VariableSort.ALPHABETICAL_ASC)
    ]


def scope_variables(ctx: Context) -> list[cogbuilder.Builder[Any]]:
    """environment (the stack's, one value), then `$cluster` where several clusters write."""
    return variables(ctx)[: 2 if ctx.multi_cluster else 1]


def variables(ctx: Context) -> list[cogbuilder.Builder[Any]]:
    """environment (the stack's, one value), cluster (only where several clusters write),
    namespace and service (job), in that order.

    `$service` offers only the services that serve metrics (services.<name>.metrics): a
    service without a /metrics target would show empty panels everywhere."""
    scope = ",".join(ctx.scope)
    up_env = f"up{{{scope}}}"
    jobs = "|".join(ctx.services)
    up_ns = f'up{{{scope},namespace="$namespace",job=~"{jobs}"}}'
    return [
        dashboard.CustomVariable("environment")
        .label("Environment")
        .description("The stack's environment; series from a central store carry it as a label.")
        .values(ctx.environment)
        .current(_option(ctx.environment))
        .options([_option(ctx.environment)])
        .hide(VariableHide.DONT_HIDE),
        *cluster_variables(ctx),
        dashboard.QueryVariable("namespace")
        .label("Namespace")
        .datasource(ctx.prometheus)
        .query(f"label_values({up_env}, namespace)")
        .definition(f"label_values({up_env}, namespace)")
        .current(_option(ctx.namespace))
        .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(VariableSort.ALPHABETICAL_ASC),
        dashboard.QueryVariable("service")
        .label("Service")
        .description("The scrape job, which the ServiceMonitor names after the service.")
        .datasource(ctx.prometheus)
        .query(f"label_values({up_ns}, job)")
        .definition(f"label_values({up_ns}, job)")
        .current(_option(ctx.backend))
        .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(VariableSort.ALPHABETICAL_ASC),
    ]


def new_dashboard(
    ref: dashboard_refs.Dashboard,
    ctx: Context,
    *,
    description: str,
    tags: list[str],
    time_from: str = "now-6h",
    refresh: str = "1m",
) -> dashboard.Dashboard:
    """A dashboard with the ref's uid and title, the shared variables, links to its siblings."""
    return (
        dashboard.Dashboard(ref.title)
        .uid(ref.uid)
        .description(description)
        .tags(["blue-harvest", *tags])
        .readonly()
        .timezone("browser")
        .time(time_from, "now")
        .refresh(refresh)
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .variables(variables(ctx))
        .link(
            dashboard.DashboardLink("Blue Harvest")
            .type(DashboardLinkType.DASHBOARDS)
            .tags(["blue-harvest"])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
    )
