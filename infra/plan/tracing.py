"""The tracing plan: what the collector and Jaeger are built from, decided from EstateConfig.

Pure data (no Pulumi). infra/render/tracing.py renders the charts' values from it, and the
Tracing component takes it as its args.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.model import EstateConfig, TracingConfig
from infra.core import environments
from infra.plan.workloads import endpoints


@dataclass(frozen=True)
class TracingPlan:
    environment: str
    #: Namespace of both releases (cluster.observabilityNamespace).
    namespace: str
    #: tracing.* as the stack sets it (sample ratio, storage, retention).
    tracing: TracingConfig
    #: How often Prometheus scrapes the collector's and Jaeger's own metrics.
    scrape_interval: str
    #: Where the collector exports spans (Jaeger's OTLP gRPC endpoint).
    jaeger_otlp_grpc: str

    @property
    def production_like(self) -> bool:
        return environments.production_like(self.environment)


def tracing_plan(config: EstateConfig) -> TracingPlan:
    return TracingPlan(
        environment=config.environment,
        namespace=config.cluster.observability_namespace,
        tracing=config.tracing,
        scrape_interval=config.metrics.scrape_interval,
        jaeger_otlp_grpc=endpoints(config).jaeger_otlp_grpc,
    )
