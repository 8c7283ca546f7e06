"""MonitoringStack: kube-prometheus-stack, its secrets, rules and service monitors.

With a remote metrics store (`metrics.store: amp`), the chart's values gain Prometheus's
remoteWrite and Grafana's data source for the workspace once its endpoint is known (an output
of MetricsStore): infra/render/remote_write.py: with_workspace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pydantic import SecretStr

from infra.components import custom_resource, helm_release
from infra.naming import TYPE_PREFIX
from infra.plan.monitoring import MonitoringPlan
from infra.render.kube_prometheus_stack import (
    ALERTMANAGER_SECRET,
    CHART,
    CHART_REPO,
    GRAFANA_ADMIN_PASSWORD_KEY,
    GRAFANA_ADMIN_SECRET,
    GRAFANA_ADMIN_USER_KEY,
    RELEASE_NAME,
)
from infra.render.remote_write import with_workspace
from infra.render.workloads import namespace


@dataclass(frozen=True)
class MonitoringStackArgs:
    """The monitoring plan, and receiver secrets only known at deployment (outputs)."""

    plan: MonitoringPlan
    #: File name in the receivers' Secret -> an output (the managed PagerDuty service's key).
    receiver_outputs: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)
    #: The metrics workspace's endpoint (MetricsStore.endpoint, ending with `/`): required
    #: exactly when the chart's plan has a remote store (plan.chart.store).
    store_endpoint: pulumi.Output[str] | None = None
    #: What the chart waits for besides its namespace and secrets (the store's IRSA roles).
    depends_on: Sequence[pulumi.Resource] = ()


class MonitoringStack(pulumi.ComponentResource):
    """Prometheus (operator), Alertmanager and Grafana for one stack."""

    release_name: pulumi.Output[str]
    grafana_admin_password: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:MonitoringStack", name, None, opts)
        plan = args.plan
        chart_values = _chart_values(args)
        child = pulumi.ResourceOptions(parent=self)
        # node-exporter needs the host's network, PIDs and /proc: a privileged namespace.
        manifest = namespace(
            plan.namespace, environment=plan.environment, pod_security="privileged"
        )
        ns = k8s.core.v1.Namespace(f"{name}-namespace", metadata=manifest["metadata"], opts=child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])

        password = random.RandomPassword(
            f"{name}-grafana-admin", length=32, special=False, opts=child
        )
        grafana_secret = k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata={"name": GRAFANA_ADMIN_SECRET, "namespace": plan.namespace},
            string_data={
                GRAFANA_ADMIN_USER_KEY: "admin",
                GRAFANA_ADMIN_PASSWORD_KEY: pulumi.Output.secret(password.result),
            },
            opts=in_ns,
        )
        receivers_secret = k8s.core.v1.Secret(
            f"{name}-alertmanager-receivers",
            metadata={"name": ALERTMANAGER_SECRET, "namespace": plan.namespace},
            string_data={
                key: pulumi.Output.secret(
                    value.get_secret_value() if isinstance(value, SecretStr) else value
                )
                for key, value in sorted({**plan.receiver_secrets, **args.receiver_outputs}.items())
            },
            opts=in_ns,
        )

        release = helm_release(
            f"{name}-chart",
            release=RELEASE_NAME,
            chart=CHART,
            repo=CHART_REPO,
            version=plan.chart_version,
            namespace=plan.namespace,
            values=chart_values,
            timeout=900,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[ns, grafana_secret, receivers_secret, *args.depends_on],
            ),
        )
        after_chart = pulumi.ResourceOptions(parent=self, depends_on=[release])
        for manifest in plan.rules:
            custom_resource(f"{name}-rules-{manifest['metadata']['name']}", manifest, after_chart)

        self.release_name = release.name
        self.grafana_admin_password = pulumi.Output.secret(password.result)
        self.register_outputs(
            {"releaseName": self.release_name, "grafanaAdminPassword": self.grafana_admin_password}
        )


def _chart_values(args: MonitoringStackArgs) -> pulumi.Input[dict[str, Any]]:
    """The plan's values; with a remote store, those values writing to its workspace."""
    plan, endpoint = args.plan, args.store_endpoint
    store = plan.chart.store
    if store is None and endpoint is None:
        return plan.values
    if store is None or endpoint is None:
        raise ValueError(
            "MonitoringStack: a remote metrics store needs both the chart plan's store and"
            f" the workspace endpoint (store: {store is not None}, endpoint:"
            f" {endpoint is not None})"
        )
    base = plan.values
    return endpoint.apply(lambda url: with_workspace(base, store, url))
