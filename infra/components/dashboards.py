"""GrafanaDashboards: the estate's dashboards, delivered to the Grafana that shows them.

In-cluster (the default), one ConfigMap per dashboard that kube-prometheus-stack's Grafana
sidecar loads into the folder of its area. With an external Grafana (`grafana.external`), the
dashboards go through its API instead: an explicit Grafana provider (its auth only ever as a
secret), one folder per area and one dashboard each. Either way a dashboard is its canonical
JSON (sorted keys, no `id` or `version`), so an unchanged dashboard never shows a diff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumiverse_grafana as grafana
from pydantic import SecretStr

from dashboards import DashboardDoc, Folder
from infra.naming import TYPE_PREFIX
from infra.render.grafana import dashboard_configmap


@dataclass(frozen=True)
class ExternalGrafanaArgs:
    """A Grafana outside the cluster, reached through its HTTP API."""

    url: str
    #: Service-account token or user:password; passed to the provider only as a secret.
    auth: SecretStr | pulumi.Output[str]


@dataclass(frozen=True)
class GrafanaDashboardsArgs:
    """Plain data from `dashboards.build_all`; the component only turns it into resources."""

    dashboards: Sequence[DashboardDoc]
    #: Namespace of the ConfigMaps (the monitoring namespace, where Grafana runs).
    namespace: str
    #: When set, the dashboards go to this Grafana's API and no ConfigMap is made.
    external: ExternalGrafanaArgs | None = None
    #: What the ConfigMaps wait for (the namespace they live in: the MonitoringStack).
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


def _secret(value: SecretStr | pulumi.Output[str]) -> pulumi.Output[str]:
    plain = value.get_secret_value() if isinstance(value, SecretStr) else value
    return pulumi.Output.secret(plain)


class GrafanaDashboards(pulumi.ComponentResource):
    """The four dashboards of a stack, as ConfigMaps or through an external Grafana's API."""

    dashboard_uids: pulumi.Output[list[str]]
    delivery: pulumi.Output[str]

    def __init__(
        self, name: str, args: GrafanaDashboardsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:GrafanaDashboards", name, None, opts)
        uids = [doc.uid for doc in args.dashboards]
        if len(set(uids)) != len(uids):
            raise ValueError(f"GrafanaDashboards {name}: duplicate dashboard uids {uids}")

        if args.external is None:
            delivery = "configmap"
            in_ns = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
            for doc in args.dashboards:
                manifest = dashboard_configmap(doc, args.namespace)
                k8s.core.v1.ConfigMap(
                    f"{name}-{doc.uid}",
                    metadata=manifest["metadata"],
                    data=manifest["data"],
                    opts=in_ns,
                )
        else:
            delivery = "api"
            provider = grafana.Provider(
                f"{name}-grafana",
                url=args.external.url,
                auth=_secret(args.external.auth),
                opts=pulumi.ResourceOptions(parent=self),
            )
            via = pulumi.ResourceOptions(parent=self, provider=provider)
            folders: dict[str, grafana.oss.Folder] = {}
            for folder in _folders(args.dashboards):
                folders[folder.uid] = grafana.oss.Folder(
                    f"{name}-{folder.uid}", uid=folder.uid, title=folder.title, opts=via
                )
            for doc in args.dashboards:
                grafana.oss.Dashboard(
                    f"{name}-{doc.uid}",
                    config_json=doc.text,
                    folder=folders[doc.folder.uid].uid,
                    # The code owns these UIDs: a copy edited by hand is replaced, not a conflict.
                    overwrite=True,
                    message="Managed by the blue-harvest estate (Pulumi)",
                    opts=via,
                )

        self.dashboard_uids = pulumi.Output.from_input(uids)
        self.delivery = pulumi.Output.from_input(delivery)
        self.register_outputs({"dashboardUids": self.dashboard_uids, "delivery": self.delivery})


def _folders(docs: Sequence[DashboardDoc]) -> list[Folder]:
    """The folders the dashboards use, each once, in first-use order."""
    seen: dict[str, Folder] = {}
    for doc in docs:
        seen.setdefault(doc.folder.uid, doc.folder)
    return list(seen.values())
