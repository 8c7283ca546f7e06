"""The platform group: the alerting pipeline's heartbeat and scrape targets that vanished.

Watchdog always fires. Our severities are critical, warning and info only (no `none`), so it
carries severity `info` and Alertmanager routes it by `alertname="Watchdog"`, in a route placed
before the severity routes, to the heartbeat receiver (a dead man's switch, whose URL staging and
prod must set; the checker sees a ping every `alerting.heartbeatInterval` + 1m, 6 minutes by
default) or, where no URL is set, to `null`. No inhibition rule ever targets it.

ScrapeTargetMissing covers what ServiceDown cannot see: `up{job="backend"} == 0` needs an `up`
series, and a service whose target is gone altogether (Deployment deleted, ServiceMonitor or
Service labels changed) has none, so it would go unnoticed. It is critical: nothing else would
tell us that the service could be down.

MetricAbsent covers what the other alerts cannot see: an alert on a metric that is no longer
exported (renamed in the app, its middleware removed) simply goes quiet. One rule per (service,
metric) an alert reads, derived from the alerts' own expressions (recording rules expanded to
what they read), fires while the service has a live target (`up == 1`) but no series of it.
Cheap to evaluate: it counts the series of one name per service, and of a histogram's buckets
only the `le="+Inf"` one (one per label set). It never pages: warning when a critical or
warning alert depends on the metric, info when only info alerts do. A labelled counter of rare
events (`Settings.absence_lookback`) counts as vanished only after that long without any
series, since prom-client creates it on its first increment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alerts import application, business, recording
from alerts.settings import Settings
from infra.catalog import dashboard_refs as panels
from infra.catalog.metrics_catalog import EXPOSED, Metric, MetricsCatalog
from infra.naming import WATCHDOG
from infra.rules import AlertRule, RuleError, RuleGroup, Severity, metric_names

GROUP = "platform"


def watchdog(s: Settings) -> AlertRule:
    return s.alert(
        WATCHDOG,
        expr="vector(1)",
        severity="info",
        service="prometheus",
        summary="Alerting pipeline heartbeat",
        description=(
            "Always firing, by design. Alertmanager sends it to the dead man's switch; when the"
            " heartbeat stops arriving, Prometheus or Alertmanager is broken."
        ),
        panel=panels.SCRAPE_TARGETS,
    )


def scrape_target_missing(s: Settings, service: str) -> AlertRule:
    return s.alert(
        "ScrapeTargetMissing",
        expr=f"absent(up{s.selector(service)})",
        severity="critical",
        service=service,
        summary=f"{service.capitalize()} has no scrape target",
        description=(
            f"Prometheus has no target for job {s.job(service)}: the service or its"
            " ServiceMonitor is gone, so an outage would go unnoticed."
        ),
        panel=panels.SCRAPE_TARGETS,
    )


#: Series whose absence other alerts already report: `up` (ServiceDown, ScrapeTargetMissing).
_WATCHED_ELSEWHERE = frozenset({"up"})


@dataclass(frozen=True)
class Dependency:
    """A scraped series name some alerts of one service read."""

    service: str
    series: str
    metric: Metric
    #: The alerts that read it, sorted; they go blind when it vanishes.
    alerts: tuple[str, ...]
    severity: Severity


def _expand(series: str, recorded: dict[str, set[str]], seen: frozenset[str]) -> set[str]:
    """The scraped series a series name stands for: a record's inputs, recursively."""
    if series not in recorded:
        return {series}
    if series in seen:
        raise RuleError(series, "recording rules read each other in a cycle")
    found: set[str] = set()
    for name in recorded[series]:
        found |= _expand(name, recorded, seen | {series})
    return found


def dependencies(
    groups: Sequence[RuleGroup], catalog: MetricsCatalog | None = None
) -> tuple[Dependency, ...]:
    """Every (service, scraped series name) the alerts of `groups` read, with who reads it.

    A series that is neither recorded by `groups` nor in the catalog of exposed metrics is
    refused: an alert on a metric nobody exports could never fire.
    """
    catalog = catalog or MetricsCatalog(metrics=EXPOSED)
    recorded: dict[str, set[str]] = {}
    for group in groups:
        for record in group.records:
            recorded.setdefault(record.record, set()).update(metric_names(record.expr))
    readers: dict[tuple[str, str], dict[str, Severity]] = {}
    families: dict[str, Metric] = {}
    for group in groups:
        for alert in group.alerts:
            for name in metric_names(alert.expr):
                for series in _expand(name, recorded, frozenset()) - _WATCHED_ELSEWHERE:
                    metric = catalog.find(series)
                    if metric is None:
                        raise RuleError(alert.name, f"reads {series}, which no target exports")
                    families[series] = metric
                    key = (alert.service, series)
                    readers.setdefault(key, {})[alert.name] = alert.severity
    return tuple(
        Dependency(
            service=service,
            series=name,
            metric=families[name],
            alerts=tuple(sorted(by)),
            severity="info" if set(by.values()) == {"info"} else "warning",
        )
        for (service, name), by in sorted(readers.items())
    )


def metric_absent(s: Settings, dependency: Dependency) -> AlertRule:
    service, series, metric = dependency.service, dependency.series, dependency.metric
    # A classic histogram always has its +Inf bucket: one series per label set, not ~12.
    bucket = series.endswith("_bucket") and metric.kind == "histogram"
    matchers = (s.matcher("le", "+Inf"),) if bucket else ()
    selected = f"{series}{s.selector(service, *matchers)}"
    lookback = s.absence_lookback.get(series)
    if lookback is not None:
        selected = f"last_over_time({selected}[{lookback}])"
    blind = ", ".join(dependency.alerts)
    return s.alert(
        "MetricAbsent",
        expr=f"""
            {s.up(service)}
            unless on ({s.by})
            count by ({s.by}) ({selected})
        """,
        severity=dependency.severity,
        service=service,
        summary=f"{service.capitalize()} no longer exports {series}",
        description=(
            f"Job {s.job(service)} is up but has exported no {series} series"
            + (f" for {lookback}" if lookback else "")
            + f": {blind} cannot fire while it is missing (renamed or removed in the app?)."
        ),
        panel=panels.SCRAPE_TARGETS,
        labels={"metric": series},
    )


def absence_alerts(s: Settings, groups: Iterable[RuleGroup]) -> tuple[AlertRule, ...]:
    return tuple(metric_absent(s, d) for d in dependencies(list(groups)))


def group(s: Settings, watched: Sequence[RuleGroup] | None = None) -> RuleGroup:
    """The platform group; MetricAbsent covers the alerts of `watched` (by default the
    recording, application and business groups built from `s`)."""
    if watched is None:
        watched = (recording.group(s), application.group(s), business.group(s))
    return RuleGroup(
        name=GROUP,
        interval=s.platform_interval,
        rules=(
            watchdog(s),
            *(scrape_target_missing(s, service) for service in s.services),
            *absence_alerts(s, watched),
        ),
    )
