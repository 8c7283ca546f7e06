"""The Grafana dashboards' stable identities: UIDs, slugs and panel ids.

Alerts link to a panel (`dashboard` annotation) and the dashboards are built elsewhere, so
both sides read their identities from here. A dashboard's UID and its panels' ids are a
contract: change one and every alert link that points at it breaks. The panels are the seed's
(section 2, "Key Dashboards"), numbered in the seed's order; Infrastructure gains one panel the
seed lacks, "Scrape targets up", for the alerts about targets going down or missing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    id: int
    title: str


@dataclass(frozen=True)
class Dashboard:
    uid: str
    slug: str
    title: str
    panels: tuple[Panel, ...]

    def panel(self, panel_id: int) -> PanelRef:
        """A link target on this dashboard; refuses an id the dashboard does not have."""
        if all(p.id != panel_id for p in self.panels):
            raise KeyError(f"dashboard {self.uid} has no panel {panel_id}")
        return PanelRef(dashboard=self, panel_id=panel_id)


@dataclass(frozen=True)
class PanelRef:
    """One panel of one dashboard, as an alert links to it."""

    dashboard: Dashboard
    panel_id: int

    def url(self, grafana_url: str) -> str:
        """`<grafana>/d/<uid>/<slug>?viewPanel=<id>`: opens the panel on its own."""
        d = self.dashboard
        return f"{grafana_url.rstrip('/')}/d/{d.uid}/{d.slug}?viewPanel={self.panel_id}"


APPLICATION_OVERVIEW = Dashboard(
    uid="bh-application-overview",
    slug="application-overview",
    title="Application Overview",
    panels=(
        Panel(1, "Request rate"),
        Panel(2, "Error rate"),
        Panel(3, "Response time (p50, p95, p99)"),
        Panel(4, "Active users"),
        Panel(5, "CPU & memory usage"),
    ),
)

DATABASE_PERFORMANCE = Dashboard(
    uid="bh-database-performance",
    slug="database-performance",
    title="Database Performance",
    panels=(
        Panel(1, "Query duration (by operation)"),
        Panel(2, "Slow queries (>100ms)"),
        Panel(3, "Connection pool usage"),
        Panel(4, "Cache hit rate"),
    ),
)

BUSINESS_METRICS = Dashboard(
    uid="bh-business-metrics",
    slug="business-metrics",
    title="Business Metrics",
    panels=(
        Panel(1, "User signups per day"),
        Panel(2, "Posts created per day"),
        Panel(3, "Active users per hour"),
        Panel(4, "Engagement metrics"),
    ),
)

INFRASTRUCTURE = Dashboard(
    uid="bh-infrastructure",
    slug="infrastructure",
    title="Infrastructure",
    panels=(
        Panel(1, "Container CPU usage"),
        Panel(2, "Container memory usage"),
        Panel(3, "Network I/O"),
        Panel(4, "Disk usage"),
        Panel(5, "Scrape targets up"),
    ),
)

#: Not in the seed: the telemetry pipeline's own health (meta-monitoring), which the
#: `pipeline` alerts (alerts/pipeline.py) link to.
ESTATE_HEALTH = Dashboard(
    uid="bh-estate-health",
    slug="estate-health",
    title="Estate Health",
    panels=(
        Panel(1, "Pipeline targets up"),
        Panel(2, "Collector spans: accepted and refused"),
        Panel(3, "Collector exports: sent and failed"),
        Panel(4, "Jaeger storage writes: sent and failed"),
        Panel(5, "Loki push requests by status"),
        Panel(6, "Loki discarded log lines"),
        Panel(7, "Alloy components by health"),
        Panel(8, "Alloy log entries: sent and dropped"),
    ),
)

DASHBOARDS: tuple[Dashboard, ...] = (
    APPLICATION_OVERVIEW,
    DATABASE_PERFORMANCE,
    BUSINESS_METRICS,
    INFRASTRUCTURE,
    ESTATE_HEALTH,
)

#: The panels alerts link to, by what they show.
REQUEST_RATE = APPLICATION_OVERVIEW.panel(1)
ERROR_RATE = APPLICATION_OVERVIEW.panel(2)
RESPONSE_TIME = APPLICATION_OVERVIEW.panel(3)
CONNECTION_POOL = DATABASE_PERFORMANCE.panel(3)
CACHE_HIT_RATE = DATABASE_PERFORMANCE.panel(4)
SIGNUPS = BUSINESS_METRICS.panel(1)
POSTS_CREATED = BUSINESS_METRICS.panel(2)
SCRAPE_TARGETS = INFRASTRUCTURE.panel(5)
PIPELINE_TARGETS = ESTATE_HEALTH.panel(1)
COLLECTOR_SPANS = ESTATE_HEALTH.panel(2)
COLLECTOR_EXPORTS = ESTATE_HEALTH.panel(3)
JAEGER_STORAGE = ESTATE_HEALTH.panel(4)
LOKI_PUSHES = ESTATE_HEALTH.panel(5)
LOKI_DISCARDED = ESTATE_HEALTH.panel(6)
ALLOY_COMPONENTS = ESTATE_HEALTH.panel(7)
ALLOY_WRITES = ESTATE_HEALTH.panel(8)

#: SLO dashboards (dashboards/slo.py): one per service with SLOs, `bh-slo-<service>`. Each SLI
#: has five panels at fixed ids (availability 1-5, latency 11-15), whatever SLIs the service
#: has, so a burn alert's link never moves when another SLO is added or removed.
SLO_SLIS: tuple[str, ...] = ("availability", "latency")
SLO_PANEL_TITLES: tuple[str, ...] = (
    "objective",
    "SLI over the SLO window",
    "error budget remaining",
    "SLI",
    "burn rate per window",
)
#: The panel (offset from the SLI's first id) the burn-rate alerts link to.
SLO_BURN_PANEL = 5


def slo_panel_id(sli: str, offset: int) -> int:
    """The id of panel `offset` (1-5) of `sli` on an SLO dashboard."""
    return 10 * SLO_SLIS.index(sli) + offset


def slo_dashboard(service: str, slis: tuple[str, ...] = SLO_SLIS) -> Dashboard:
    """The SLO dashboard of `service`, with the panels of `slis` (the SLIs it has SLOs for)."""
    return Dashboard(
        uid=f"bh-slo-{service}",
        slug=f"slo-{service}",
        title=f"SLOs: {service}",
        panels=tuple(
            Panel(slo_panel_id(sli, i), f"{sli.capitalize()}: {title}")
            for sli in SLO_SLIS
            if sli in slis
            for i, title in enumerate(SLO_PANEL_TITLES, start=1)
        ),
    )


def slo_panel(service: str, sli: str) -> PanelRef:
    """Where a burn-rate alert of `service`'s `sli` SLO links: its burn rate per window."""
    return slo_dashboard(service, (sli,)).panel(slo_panel_id(sli, SLO_BURN_PANEL))
