"""In-cluster names and URLs the components agree on (releases set fullnameOverride so the
Services really have these names). Pure data: the dashboards' data sources, the collector's
exporters and the workloads' env all read them from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoints:
    monitoring_namespace: str
    observability_namespace: str

    @property
    def prometheus(self) -> str:
        return f"http://kube-prometheus-stack-prometheus.{self.monitoring_namespace}.svc:9090"

    @property
    def alertmanager(self) -> str:
        return f"http://kube-prometheus-stack-alertmanager.{self.monitoring_namespace}.svc:9093"

    @property
    def loki(self) -> str:
        return f"http://loki.{self.observability_namespace}.svc:3100"

    @property
    def jaeger_query(self) -> str:
        return f"http://jaeger.{self.observability_namespace}.svc:16686"

    @property
    def jaeger_otlp_grpc(self) -> str:
        return f"jaeger.{self.observability_namespace}.svc:4317"

    @property
    def otel_collector_otlp_http(self) -> str:
        return f"http://otel-collector.{self.observability_namespace}.svc:4318"

    @property
    def otel_collector_jaeger_thrift(self) -> str:
        return f"http://otel-collector.{self.observability_namespace}.svc:14268/api/traces"


#: Stable data source UIDs the dashboards reference.
DATASOURCE_UIDS = {
    "prometheus": "bh-prometheus",
    "alertmanager": "bh-alertmanager",
    "loki": "bh-loki",
    "jaeger": "bh-jaeger",
}
