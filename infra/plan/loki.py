"""The log-aggregation plan: Loki and its shipper for a stack, decided from EstateConfig.

Pure data (no Pulumi). infra/render/loki.py renders the charts' values and IAM documents from
it; the LogAggregation component takes it as its args' plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from infra.config.model import EstateConfig
from infra.core import environments
from infra.naming import PROJECT
from infra.plan.workloads import endpoints


@dataclass(frozen=True)
class LokiPlan:
    """What LogAggregation declares for a stack, decided from EstateConfig."""

    environment: str
    #: What account-wide names carry (EstateConfig.name_scope): the stack's name.
    name_scope: str
    cluster: str
    namespace: str
    storage: Literal["filesystem", "s3"]
    retention: str
    #: Loki's push URL (Endpoints.loki + /loki/api/v1/push), where the shipper sends.
    push_url: str
    region: str | None = None
    #: loki.bucket; None lets the component name it after the account.
    bucket: str | None = None
    oidc_provider_arn: str | None = None
    #: Protect and retain the bucket (prod, like the log groups).
    protect: bool = False
    volume_size: str = "10Gi"
    tags: dict[str, str] = field(default_factory=dict)
    #: How often Prometheus scrapes Loki's and Alloy's own metrics (metrics.scrapeInterval).
    scrape_interval: str = "30s"

    @property
    def production_like(self) -> bool:
        return environments.production_like(self.environment)


def loki_plan(config: EstateConfig) -> LokiPlan:
    """The plan for `config` (call only with loki.enabled)."""
    loki = config.loki
    return LokiPlan(
        environment=config.environment,
        name_scope=config.name_scope,
        cluster=config.cluster.name,
        namespace=config.cluster.observability_namespace,
        storage=loki.storage,
        retention=loki.retention,
        push_url=f"{endpoints(config).loki}/loki/api/v1/push",
        region=config.aws_region,
        bucket=loki.bucket,
        oidc_provider_arn=config.cluster.oidc_provider_arn,
        protect=config.logs.protect,
        volume_size="50Gi" if environments.production_like(config.environment) else "10Gi",
        tags={"project": PROJECT, "environment": config.environment, "component": "loki"},
        scrape_interval=config.metrics.scrape_interval,
    )
