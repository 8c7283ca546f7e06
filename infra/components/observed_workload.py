"""ObservedWorkload: one call deploys a service and monitors it.

Deployment (the service's probes, restricted security context, the env the seed's code reads),
Service, ServiceAccount, PodDisruptionBudget, its ServiceMonitor (when it serves metrics) and
its own PrometheusRules.
CloudWatch log groups stay with CloudWatchLogs, which already owns the groups, their writer
policies and IRSA roles; pass a role's ARN here as `irsa_role_arn`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.components import custom_resource
from infra.naming import TYPE_PREFIX
from infra.plan.workloads import WorkloadSpec
from infra.render.workloads import (
    deployment,
    monitor,
    pod_disruption_budget,
    service,
    service_account,
)


@dataclass(frozen=True)
class ObservedWorkloadArgs:
    """Plain data from infra.plan.workloads, plus the resources this one waits for."""

    spec: WorkloadSpec
    #: kube-prometheus-stack release name; the ServiceMonitor and rules carry `release: <it>`.
    monitor_release: str
    #: Scrape interval of the ServiceMonitor (metrics.scrapeInterval).
    scrape_interval: str
    #: IAM role the service account assumes (IRSA); None leaves it unannotated.
    irsa_role_arn: pulumi.Input[str] | None = None
    #: PrometheusRule manifests about this service; created after `monitoring_chart`.
    rules: list[dict[str, Any]] = field(default_factory=list)
    #: The chart that brings the monitoring CRDs (MonitoringStack's release); None in tests
    #: or when the CRDs already exist.
    monitoring_chart: pulumi.Resource | None = None
    #: What every namespaced child waits for: the Namespace, the Sentry DSN Secret.
    depends_on: Sequence[pulumi.Resource] = ()


class ObservedWorkload(pulumi.ComponentResource):
    """A workload of the application with its probes, scraping and alert rules."""

    deployment_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    service_account_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: ObservedWorkloadArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:ObservedWorkload", name, None, opts)
        spec = args.spec
        waits = list(args.depends_on)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=waits)

        sa_manifest = service_account(spec, args.irsa_role_arn)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=sa_manifest["metadata"],
            automount_service_account_token=sa_manifest["automountServiceAccountToken"],
            opts=in_ns,
        )
        svc_manifest = service(spec)
        svc = k8s.core.v1.Service(
            f"{name}-service",
            metadata=svc_manifest["metadata"],
            spec=svc_manifest["spec"],
            opts=in_ns,
        )
        deploy_manifest = deployment(spec)
        deploy = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=deploy_manifest["metadata"],
            spec=deploy_manifest["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*waits, account]),
        )
        pdb_manifest = pod_disruption_budget(spec)
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=pdb_manifest["metadata"],
            spec=pdb_manifest["spec"],
            opts=in_ns,
        )

        after_crds = pulumi.ResourceOptions(
            parent=self,
            depends_on=[*waits, *([args.monitoring_chart] if args.monitoring_chart else [])],
        )
        scrape = monitor(spec, release=args.monitor_release, interval=args.scrape_interval)
        if scrape is not None:
            custom_resource(f"{name}-monitor", scrape, after_crds)
        for manifest in args.rules:
            custom_resource(f"{name}-rules-{manifest['metadata']['name']}", manifest, after_crds)

        self.deployment_name = deploy.metadata.apply(lambda m: m.name)
        self.service_name = svc.metadata.apply(lambda m: m.name)
        self.service_account_name = account.metadata.apply(lambda m: m.name)
        self.register_outputs(
            {
                "deploymentName": self.deployment_name,
                "serviceName": self.service_name,
                "serviceAccountName": self.service_account_name,
            }
        )
