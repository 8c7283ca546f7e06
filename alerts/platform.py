"""The platform group: the alerting pipeline's heartbeat and scrape targets that vanished.

Watchdog always fires. Our severities are critical, warning and info only (no `none`), so it
carries severity `info` and Alertmanager routes it by `alertname="Watchdog"`, in a route placed
before the severity routes, to the heartbeat receiver (a dead man's switch) or to `null`.

ScrapeTargetMissing covers what ServiceDown cannot see: `up{job="backend"} == 0` needs an `up`
series, and a service whose target is gone altogether (Deployment deleted, ServiceMonitor or
Service labels changed) has none, so it would go unnoticed. It is critical: nothing else would
tell us that the service could be down.
"""

from __future__ import annotations

from alerts.settings import Settings
from infra.spec import dashboard_refs as panels
from infra.spec.alerts import AlertRule, RuleGroup

GROUP = "platform"

#: The heartbeat's alertname, which Alertmanager routes on.
WATCHDOG = "Watchdog"


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


def group(s: Settings) -> RuleGroup:
    return RuleGroup(
        name=GROUP,
        interval=s.platform_interval,
        rules=(watchdog(s), *(scrape_target_missing(s, service) for service in s.services)),
    )
