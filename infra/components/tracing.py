"""Tracing: the OpenTelemetry collector and Jaeger v2, as two pinned Helm releases.

Values come from infra.render.tracing; the trace store's password goes only into a Kubernetes
Secret (wrapped with pulumi.Output.secret), which Jaeger reads through a secretKeyRef.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.components import helm_release
from infra.naming import (
    COLLECTOR_RELEASE,
    JAEGER_RELEASE,
    PART_OF_LABEL,
    PROJECT,
    TYPE_PREFIX,
    Endpoints,
)
from infra.plan.tracing import TracingPlan
from infra.render.tracing import (
    COLLECTOR_CHART,
    COLLECTOR_CHART_REPO,
    COLLECTOR_CHART_VERSION,
    JAEGER_CHART,
    JAEGER_CHART_REPO,
    JAEGER_CHART_VERSION,
    JAEGER_STORAGE_SECRET,
    JAEGER_STORAGE_SECRET_KEY,
    collector_values,
    jaeger_values,
    needs_storage_secret,
)


@dataclass(frozen=True)
class TracingArgs:
    """The tracing plan, and what the releases wait for."""

    plan: TracingPlan
    #: What the releases wait for (the observability Namespace, the monitoring chart).
    depends_on: Sequence[pulumi.Resource] = ()
    collector_chart_version: str = COLLECTOR_CHART_VERSION
    jaeger_chart_version: str = JAEGER_CHART_VERSION


class Tracing(pulumi.ComponentResource):
    """Where the workloads' spans go, and where people look at them."""

    collector_otlp_http: pulumi.Output[str]
    collector_jaeger_thrift: pulumi.Output[str]
    jaeger_query_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: TracingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:Tracing", name, None, opts)
        plan = args.plan
        password = plan.tracing.storage_password if needs_storage_secret(plan) else None
        waits: list[pulumi.Resource] = list(args.depends_on)
        if password is not None:
            secret = k8s.core.v1.Secret(
                f"{name}-storage-credentials",
                metadata={
                    "name": JAEGER_STORAGE_SECRET,
                    "namespace": plan.namespace,
                    "labels": {PART_OF_LABEL: PROJECT},
                },
                type="Opaque",
                string_data={
                    JAEGER_STORAGE_SECRET_KEY: pulumi.Output.secret(password.get_secret_value())
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
            )
            waits.append(secret)

        jaeger = helm_release(
            f"{name}-jaeger",
            release=JAEGER_RELEASE,
            chart=JAEGER_CHART,
            repo=JAEGER_CHART_REPO,
            version=args.jaeger_chart_version,
            namespace=plan.namespace,
            values=jaeger_values(plan),
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits),
        )
        collector = helm_release(
            f"{name}-collector",
            release=COLLECTOR_RELEASE,
            chart=COLLECTOR_CHART,
            repo=COLLECTOR_CHART_REPO,
            version=args.collector_chart_version,
            namespace=plan.namespace,
            values=collector_values(plan),
            timeout=600,
            # Its exporter points at Jaeger's Service: install Jaeger first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, jaeger]),
        )

        # Only the observability namespace matters for these three URLs.
        ep = Endpoints(monitoring_namespace="", observability_namespace=plan.namespace)
        self.collector_otlp_http = collector.status.apply(lambda _: ep.otel_collector_otlp_http)
        self.collector_jaeger_thrift = collector.status.apply(
            lambda _: ep.otel_collector_jaeger_thrift
        )
        self.jaeger_query_url = jaeger.status.apply(lambda _: ep.jaeger_query)
        self.register_outputs(
            {
                "collectorOtlpHttp": self.collector_otlp_http,
                "collectorJaegerThrift": self.collector_jaeger_thrift,
                "jaegerQueryUrl": self.jaeger_query_url,
            }
        )
