"""MonitoringStack: kube-prometheus-stack, its secrets, rules and service monitors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pydantic import SecretStr

from infra.components import custom_resource, helm_release
from infra.naming import PART_OF_LABEL, PROJECT, TYPE_PREFIX
from infra.render.kube_prometheus_stack import (
    ALERTMANAGER_SECRET,
    CHART,
    CHART_REPO,
    GRAFANA_ADMIN_PASSWORD_KEY,
    GRAFANA_ADMIN_SECRET,
    GRAFANA_ADMIN_USER_KEY,
    RELEASE_NAME,
)


@dataclass(frozen=True)
class MonitoringStackArgs:
    """Plain data from the renderers; the component only turns it into resources."""

    namespace: str
    chart_version: str
    #: kube-prometheus-stack values (infra.render.kube_prometheus_stack.values).
    values: dict[str, Any]
    #: File name in the receivers' Secret -> secret value (PagerDuty key, Slack URL, ...).
    receiver_secrets: Mapping[str, SecretStr | pulumi.Output[str]] = field(default_factory=dict)
    #: PrometheusRule manifests; created after the chart, whose CRDs they need.
    rules: list[dict[str, Any]] = field(default_factory=list)


class MonitoringStack(pulumi.ComponentResource):
    """Prometheus (operator), Alertmanager and Grafana for one stack."""

    release_name: pulumi.Output[str]
    grafana_admin_password: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:MonitoringStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": args.namespace,
                "labels": {PART_OF_LABEL: PROJECT},
            },
            opts=child,
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])

        password = random.RandomPassword(
            f"{name}-grafana-admin", length=32, special=False, opts=child
        )
        grafana_secret = k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata={"name": GRAFANA_ADMIN_SECRET, "namespace": args.namespace},
            string_data={
                GRAFANA_ADMIN_USER_KEY: "admin",
                GRAFANA_ADMIN_PASSWORD_KEY: pulumi.Output.secret(password.result),
            },
            opts=in_ns,
        )
        receivers_secret = k8s.core.v1.Secret(
            f"{name}-alertmanager-receivers",
            metadata={"name": ALERTMANAGER_SECRET, "namespace": args.namespace},
            string_data={
                key: pulumi.Output.secret(
                    value.get_secret_value() if isinstance(value, SecretStr) else value
                )
                for key, value in sorted(args.receiver_secrets.items())
            },
            opts=in_ns,
        )

        release = helm_release(
            f"{name}-chart",
            release=RELEASE_NAME,
            chart=CHART,
            repo=CHART_REPO,
            version=args.chart_version,
            namespace=args.namespace,
            values=args.values,
            timeout=900,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[ns, grafana_secret, receivers_secret]
            ),
        )
        after_chart = pulumi.ResourceOptions(parent=self, depends_on=[release])
        for manifest in args.rules:
            custom_resource(f"{name}-rules-{manifest['metadata']['name']}", manifest, after_chart)

        self.release_name = release.name
        self.grafana_admin_password = pulumi.Output.secret(password.result)
        self.register_outputs(
            {"releaseName": self.release_name, "grafanaAdminPassword": self.grafana_admin_password}
        )
