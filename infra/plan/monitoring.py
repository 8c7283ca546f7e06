"""The monitoring plan: kube-prometheus-stack's namespace, values, receivers' secrets and rules.

Plain data (no Pulumi). program.plan() fills it from the renderers (chart values, the
Alertmanager config, PrometheusRule manifests); the MonitoringStack component takes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr


@dataclass(frozen=True)
class MonitoringPlan:
    #: The monitoring namespace (metrics.namespace), labelled with the stack's environment.
    namespace: str
    environment: str
    chart_version: str
    #: kube-prometheus-stack values (infra.render.kube_prometheus_stack.values).
    values: dict[str, Any]
    #: File name in the receivers' Secret -> secret value (PagerDuty key, Slack URL, ...).
    receiver_secrets: dict[str, SecretStr] = field(default_factory=dict)
    #: PrometheusRule manifests; created after the chart, whose CRDs they need.
    rules: list[dict[str, Any]] = field(default_factory=list)
    #: How often Prometheus scrapes the workloads' ServiceMonitors (metrics.scrapeInterval).
    scrape_interval: str = "30s"
