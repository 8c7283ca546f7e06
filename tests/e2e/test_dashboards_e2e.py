"""Every Prometheus panel of the dashboards, queried in a real Prometheus.

Prometheus scrapes the alerting e2e's simulated backend (job=backend, the seed's metrics) and
two registries of this test's own: prom-client's default process metrics for the backend job
(the simulated backend has none), and a stand-in for the kubelet and kube-state-metrics that
serves cAdvisor, volume and resource series with the names and labels kube-prometheus-stack
exposes; and one stand-in per pipeline component (collector, Jaeger, Loki, Alloy) serving
that component's own metric names, scraped with the `namespace` and `service` labels Prometheus
Operator gives a ServiceMonitor's targets (the Estate Health dashboard). It loads the stack's
synthesized recording rules (evaluated every second here; the
only test-only change), so panels that read a record read what the rules compute.

Each target is sent as Grafana would send it: template variables replaced by their current
values (the stack's environment, namespace and `backend`) and macros by short windows. It must
return data, and every selector in it must match a series: a selector whose labels are wrong
cannot hide behind `or vector(0)`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import promql_parser
import pytest
import yaml
from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import make_wsgi_app
from prometheus_client.registry import Collector

import dashboards
from alerts import rule_groups
from harness.backend import SimulatedBackend
from harness.servers import LOOPBACK, Server, prometheus, wait_until
from infra.checks.dashboards import MACROS, panels, promql_targets
from infra.render.prometheus import rule_file, to_yaml
from tests.conftest import stack_config

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-dashboards")]

STACK = "prod"
#: Grafana's macros as a one-second scrape needs them (a rate needs two samples in its window).
E2E_MACROS = {**MACROS, "__rate_interval": "15s", "__interval": "5s", "__range": "1m"}
EVAL = "1s"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class Exporter:
    """A /metrics endpoint for one registry, on loopback, stopped by `stop`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._server: WSGIServer = make_server(
            LOOPBACK, 0, make_wsgi_app(registry), handler_class=_Quiet
        )
        self.target = f"{LOOPBACK}:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class ClusterStandIn(Collector):
    """cAdvisor, kubelet and kube-state-metrics series for the backend's pods and the estate's
    volumes; counters grow with time so that rates are positive."""

    def __init__(self, namespace: str, monitoring: str, service: str) -> None:
        self.namespace = namespace
        self.monitoring = monitoring
        self.pods = [f"{service}-7d4b9c8f6-x2x9z", f"{service}-7d4b9c8f6-q8w4k"]
        self.container = service
        self.start = time.monotonic()

    def collect(self) -> Iterable[Metric]:
        t = time.monotonic() - self.start
        ns, c = self.namespace, self.container
        cpu = CounterMetricFamily(
            "container_cpu_usage_seconds", "CPU", labels=["namespace", "pod", "container"]
        )
        memory = GaugeMetricFamily(
            "container_memory_working_set_bytes", "WSS", labels=["namespace", "pod", "container"]
        )
        rx = CounterMetricFamily(
            "container_network_receive_bytes", "rx", labels=["namespace", "pod", "interface"]
        )
        tx = CounterMetricFamily(
            "container_network_transmit_bytes", "tx", labels=["namespace", "pod", "interface"]
        )
        resource = ["namespace", "pod", "container", "resource", "unit"]
        requests = GaugeMetricFamily("kube_pod_container_resource_requests", "req", labels=resource)
        limits = GaugeMetricFamily("kube_pod_container_resource_limits", "lim", labels=resource)
        for pod in self.pods:
            cpu.add_metric([ns, pod, c], 0.2 * t)
            cpu.add_metric([ns, pod, ""], 0.2 * t)  # the pod cgroup, which the panel must drop
            memory.add_metric([ns, pod, c], 180e6)
            rx.add_metric([ns, pod, "eth0"], 5e4 * t)
            tx.add_metric([ns, pod, "eth0"], 3e4 * t)
            requests.add_metric([ns, pod, c, "cpu", "core"], 0.25)
            limits.add_metric([ns, pod, c, "memory", "byte"], 512 * 2**20)
        pvc = ["namespace", "persistentvolumeclaim"]
        used = GaugeMetricFamily("kubelet_volume_stats_used_bytes", "used", labels=pvc)
        capacity = GaugeMetricFamily("kubelet_volume_stats_capacity_bytes", "cap", labels=pvc)
        claim = "prometheus-kube-prometheus-stack-prometheus-db-0"
        used.add_metric([self.monitoring, claim], 30 * 2**30)
        capacity.add_metric([self.monitoring, claim], 100 * 2**30)
        yield from (cpu, memory, rx, tx, requests, limits, used, capacity)


class PipelineStandIn(Collector):
    """One pipeline component's own metrics, as infra/catalog/metrics_catalog.py: PIPELINE names
    them; counters grow with time."""

    def __init__(self, component: str) -> None:
        self.component = component
        self.start = time.monotonic()

    def collect(self) -> Iterable[Metric]:
        t = time.monotonic() - self.start
        if self.component in ("otel-collector", "jaeger"):
            exporter = "jaeger_storage_exporter" if self.component == "jaeger" else "otlp"
            received = ["receiver", "transport"]
            accepted = CounterMetricFamily("otelcol_receiver_accepted_spans", "in", labels=received)
            refused = CounterMetricFamily("otelcol_receiver_refused_spans", "no", labels=received)
            sent = CounterMetricFamily("otelcol_exporter_sent_spans", "out", labels=["exporter"])
            failed = CounterMetricFamily(
                "otelcol_exporter_send_failed_spans", "fail", labels=["exporter"]
            )
            accepted.add_metric(["otlp", "grpc"], 100 * t)
            refused.add_metric(["otlp", "grpc"], 1 * t)
            sent.add_metric([exporter], 99 * t)
            failed.add_metric([exporter], 1 * t)
            yield from (accepted, refused, sent, failed)
        elif self.component == "loki":
            requests = HistogramMetricFamily(
                "loki_request_duration_seconds", "req", labels=["route", "status_code"]
            )
            for status, share in (("204", 99.0), ("500", 1.0)):
                count = share * t
                requests.add_metric(
                    ["loki_api_v1_push", status], [("0.1", count), ("+Inf", count)], 0.01 * count
                )
            discarded = CounterMetricFamily(
                "loki_discarded_samples", "discarded", labels=["reason", "tenant"]
            )
            discarded.add_metric(["rate_limited", "fake"], 2 * t)
            yield from (requests, discarded)
        else:
            components = GaugeMetricFamily(
                "alloy_component_controller_running_components", "n", labels=["health_type"]
            )
            components.add_metric(["healthy"], 9)
            components.add_metric(["unhealthy"], 1)
            sent = CounterMetricFamily("loki_write_sent_entries", "sent", labels=["host"])
            dropped = CounterMetricFamily("loki_write_dropped_entries", "drop", labels=["host"])
            sent.add_metric(["loki.observability.svc:3100"], 500 * t)
            dropped.add_metric(["loki.observability.svc:3100"], 1 * t)
            yield from (components, sent, dropped)


#: The pipeline's components, by the Service name their ServiceMonitors scrape.
PIPELINE = ("otel-collector", "jaeger", "loki", "alloy")


@dataclass
class Estate:
    prometheus: Server
    models: list[dict[str, Any]]


def _query(prom: Server, expr: str) -> list[Any]:
    body = prom.get_json(f"/api/v1/query?query={quote(expr)}")
    assert body["status"] == "success", body
    return list(body["data"]["result"])


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    work = tmp_path_factory.mktemp("dashboards-e2e")
    config = stack_config(STACK)
    models = [doc.json for doc in dashboards.build_all(config, multi_cluster=False)]

    # The recording rules, and the SLO group whose records the SLO dashboards read.
    recording = [g for g in rule_groups(config) if g.name in ("recording", "slos")]
    doc = rule_file(recording)
    for group in doc["groups"]:
        group["interval"] = EVAL
    rules = work / "recording.yaml"
    rules.write_text(to_yaml(doc))

    backend = SimulatedBackend(max_seconds=120)
    process = CollectorRegistry()
    ProcessCollector(registry=process)
    cluster = CollectorRegistry()
    cluster.register(ClusterStandIn(config.cluster.namespace, config.metrics.namespace, "backend"))
    exporters: list[Exporter] = []
    try:
        backend.start()
        exporters = [Exporter(process), Exporter(cluster)]
        pipeline: list[dict[str, Any]] = []
        for component in PIPELINE:
            registry = CollectorRegistry()
            registry.register(PipelineStandIn(component))
            exporters.append(Exporter(registry))
            labels = {"namespace": config.cluster.observability_namespace, "service": component}
            pipeline.append(
                {
                    "job_name": component,
                    "static_configs": [{"targets": [exporters[-1].target], "labels": labels}],
                }
            )
        workloads = {"namespace": config.cluster.namespace}
        scrape = [
            {
                "job_name": "backend",
                "static_configs": [
                    {
                        "targets": [f"{LOOPBACK}:{backend.port}", exporters[0].target],
                        "labels": workloads,
                    }
                ],
            },
            {
                "job_name": "frontend",
                "static_configs": [{"targets": [exporters[0].target], "labels": workloads}],
            },
            {
                "job_name": "kubelet",
                "honor_labels": True,
                "static_configs": [{"targets": [exporters[1].target]}],
            },
            *pipeline,
        ]
        prom_config = work / "prometheus.yaml"
        prom_config.write_text(
            yaml.safe_dump(
                {
                    "global": {
                        "scrape_interval": "1s",
                        "evaluation_interval": EVAL,
                        "external_labels": {"cluster": "bh-prod", "environment": STACK},
                    },
                    "rule_files": [str(rules)],
                    "scrape_configs": scrape,
                },
                sort_keys=True,
            )
        )
        with prometheus(prom_config, work) as prom:
            yield Estate(prom, models)
    finally:
        for exporter in exporters:
            exporter.stop()
        backend.stop()


def _targets(models: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(where, refId, PromQL) of every Prometheus target of every panel."""
    out = []
    for model in models:
        for panel in panels(model):
            for ref_id, expr in promql_targets(model, panel, E2E_MACROS):
                out.append((f"{model['uid']} panel {panel['id']} {panel['title']!r}", ref_id, expr))
    return out


def _selectors(expr: str) -> list[str]:
    found: list[str] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(str(node))

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def test_the_recording_rules_load_healthy(estate: Estate) -> None:
    groups = estate.prometheus.get_json("/api/v1/rules")["data"]["groups"]
    assert [g["name"] for g in groups] == ["recording", "slos"]
    assert all(r["health"] != "err" for g in groups for r in g["rules"])


def test_every_prometheus_panel_target_returns_data(estate: Estate) -> None:
    targets = _targets(estate.models)
    assert len(targets) >= 25
    assert {where.split(" ")[0] for where, _, _ in targets} == {m["uid"] for m in estate.models}
    empty: list[str] = []

    def all_have_data() -> bool:
        empty[:] = [
            f"{where} {ref_id}: {expr}"
            for where, ref_id, expr in targets
            if not _query(estate.prometheus, expr)
        ]
        return not empty

    try:
        wait_until(all_have_data, timeout=40, interval=1, what="every panel target to return data")
    except TimeoutError:
        pytest.fail("targets without data:\n" + "\n".join(empty))


def test_every_selector_of_every_target_matches_series(estate: Estate) -> None:
    selectors = sorted({s for _, _, expr in _targets(estate.models) for s in _selectors(expr)})
    missing: list[str] = []

    def all_match() -> bool:
        missing[:] = [s for s in selectors if not _query(estate.prometheus, f"count({s})")]
        return not missing

    try:
        wait_until(all_match, timeout=30, interval=1, what="every selector to match a series")
    except TimeoutError:
        pytest.fail("selectors matching no series:\n" + "\n".join(missing))


def test_the_pod_cgroup_series_is_not_counted_twice(estate: Estate) -> None:
    (model,) = [m for m in estate.models if m["uid"] == "bh-infrastructure"]
    cpu = next(p for p in panels(model) if p["id"] == 1)
    (ref_a, expr) = promql_targets(model, cpu, E2E_MACROS)[0]
    assert ref_a == "A"
    wait_until(lambda: bool(_query(estate.prometheus, expr)), timeout=20, what="container CPU")
    assert {r["metric"].get("container") for r in _query(estate.prometheus, expr)} == {"backend"}
