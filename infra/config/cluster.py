"""`blue-harvest:aws` and `blue-harvest:cluster`: the account switch and the Kubernetes cluster."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
)

from infra.config.fields import (
    _DNS_LABEL,
    _K8S_VERSION,
    _KUBE_CONTEXT,
    _OIDC_ARN,
    _Model,
)


class AwsConfig(_Model):
    """Whether this stack has an AWS account (CloudWatch, KMS, IAM, SNS)."""

    enabled: bool = Field(description="Create the AWS resources (log groups, KMS, alarms, IAM).")


#: eks: managed control plane, no controller-manager/scheduler/etcd metrics, kube-proxy on
#: 127.0.0.1; kind: kubeadm defaults, the same four bound to 127.0.0.1; generic: a cluster whose
#: control plane Prometheus can reach (everything scraped).
ClusterFlavor = Literal["eks", "kind", "generic"]


class ClusterConfig(_Model):
    """The Kubernetes cluster the workloads and the monitoring stack run in."""

    name: str = Field(pattern=_DNS_LABEL, description="Cluster name, used in external labels.")
    kubernetes_version: str = Field(
        pattern=_K8S_VERSION, description="Kubernetes minor version, e.g. '1.31'."
    )
    namespace: str = Field(pattern=_DNS_LABEL, description="Namespace of the workloads.")
    observability_namespace: str = Field(
        default="observability",
        pattern=_DNS_LABEL,
        description="Namespace of the collector, Jaeger, Loki and the log shipper.",
    )
    oidc_provider_arn: str | None = Field(
        default=None,
        pattern=_OIDC_ARN,
        description="The cluster's IAM OIDC provider; when set, service accounts get IRSA roles.",
    )
    flavor: ClusterFlavor = Field(
        description="What kind of cluster: eks, kind or generic. It decides which control-plane"
        " components Prometheus can scrape (infra/render/chart_facts.py)."
    )
    kubeconfig_context: str | None = Field(
        default=None,
        pattern=_KUBE_CONTEXT,
        description="The kubeconfig context `pulumi up` deploys with (unset: the current one);"
        " either way the context must point at the cluster `name` names.",
    )

    @property
    def oidc_issuer(self) -> str | None:
        """The issuer host and path the trust policy's conditions are keyed by."""
        if self.oidc_provider_arn is None:
            return None
        return self.oidc_provider_arn.split(":oidc-provider/", 1)[1]
