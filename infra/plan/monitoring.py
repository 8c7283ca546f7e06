"""The monitoring plan: kube-prometheus-stack's namespace, values, receivers' secrets and rules.

Plain data (no Pulumi). `chart_plan` decides, from EstateConfig, what the chart is given
(sizing, the cluster's flavor, Alertmanager's routing, Grafana's data sources); estate.plan()
builds it once and renders it (infra.render.kube_prometheus_stack, .alertmanager, .grafana)
into MonitoringPlan, with the PrometheusRule manifests of the alerts' rule groups. The
MonitoringStack component takes MonitoringPlan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from infra.config.model import ClusterFlavor, Environment, EstateConfig, MetricsConfig
from infra.core import environments
from infra.naming import Endpoints
from infra.plan.metrics_store import AmpPlan, amp_plan
from infra.plan.routing import AlertmanagerPlan, alertmanager_plan
from infra.plan.workloads import endpoints
from infra.rules import RuleGroup


@dataclass(frozen=True)
class GrafanaPlan:
    """Grafana's data sources: where each backend is reached and which are deployed."""

    endpoints: Endpoints
    #: Prometheus's scrape interval ($__rate_interval is at least four of them).
    scrape_interval: str
    #: Loki and Jaeger are data sources only where they are deployed.
    loki: bool
    tracing: bool
    #: The workloads' namespace (cluster.namespace): Jaeger's trace-to-logs query reads it.
    workloads_namespace: str
    #: metrics.store amp: Grafana also reads the workspace (SigV4, its own IRSA role).
    store: AmpPlan | None = None


def grafana_plan(config: EstateConfig, store: AmpPlan | None = None) -> GrafanaPlan:
    return GrafanaPlan(
        endpoints=endpoints(config),
        scrape_interval=config.metrics.scrape_interval,
        loki=config.loki.enabled,
        tracing=config.tracing.enabled,
        workloads_namespace=config.cluster.namespace,
        store=store,
    )


@dataclass(frozen=True)
class ChartPlan:
    """What kube-prometheus-stack is given for one stack."""

    environment: Environment
    #: cluster.name, Prometheus's `cluster` external label.
    cluster: str
    #: cluster.flavor: what Prometheus cannot scrape there is switched off.
    flavor: ClusterFlavor
    #: metrics.* as the stack sets it (sizing, retention, intervals, storage, external URLs).
    metrics: MetricsConfig
    alertmanager: AlertmanagerPlan
    grafana: GrafanaPlan
    #: aws:region, the `region` external label (None without AWS: the label says `local`).
    region: str | None = None
    #: metrics.store amp: the remote store Prometheus writes to (None: in-cluster only).
    store: AmpPlan | None = None

    @property
    def production_like(self) -> bool:
        return environments.production_like(self.environment)


def chart_plan(config: EstateConfig, groups: Iterable[RuleGroup] = ()) -> ChartPlan:
    """`groups`: the stack's rule groups (their records are among the series written to a
    remote store)."""
    store = amp_plan(config, groups)
    return ChartPlan(
        environment=config.environment,
        cluster=config.cluster.name,
        flavor=config.cluster.flavor,
        metrics=config.metrics,
        alertmanager=alertmanager_plan(config),
        grafana=grafana_plan(config, store),
        region=config.aws_region if config.aws.enabled else None,
        store=store,
    )


@dataclass(frozen=True)
class MonitoringPlan:
    #: The monitoring namespace (metrics.namespace), labelled with the stack's environment.
    namespace: str
    environment: str
    chart_version: str
    #: kube-prometheus-stack values (infra.render.kube_prometheus_stack.values of `chart`).
    values: dict[str, Any]
    #: What `values` were rendered from (estate check reads Grafana's data sources from it).
    chart: ChartPlan
    #: File name in the receivers' Secret -> secret value (PagerDuty key, Slack URL, ...).
    receiver_secrets: dict[str, SecretStr] = field(default_factory=dict)
    #: PrometheusRule manifests; created after the chart, whose CRDs they need.
    rules: list[dict[str, Any]] = field(default_factory=list)
    #: The rule groups `rules` were rendered from (estate check reads the alerts' dashboard
    #: links and the recording rules from them).
    groups: tuple[RuleGroup, ...] = ()
    #: How often Prometheus scrapes the workloads' ServiceMonitors (metrics.scrapeInterval).
    scrape_interval: str = "30s"
