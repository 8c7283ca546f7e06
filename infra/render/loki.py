"""Loki and its log shipper (Grafana Alloy), as pure functions of a LokiPlan.

Loki runs monolithic (one single-binary StatefulSet, Service `loki` on 3100): filesystem
storage on its volume in local/dev/staging, an S3 bucket in prod (IRSA, no keys). Retention is
`loki.retention`, enforced by the compactor; the bucket's lifecycle rule is a backstop a day
longer, never shorter (a shorter one would delete chunks Loki still indexes).

Alloy runs as a DaemonSet, tails the node's container logs under /var/log/pods and pushes them
to Endpoints.loki with the cluster and environment as labels.

Chart pins:
- grafana-community/loki 18.13.0 (https://grafana-community.github.io/helm-charts, where the
  chart moved from grafana/helm-charts): `deploymentMode: Monolithic` with the `singleBinary`
  section, read/write/backend scaled to 0.
- grafana/alloy 1.13.0 (https://grafana.github.io/helm-charts).
"""

from __future__ import annotations

import math
from typing import Any

from infra.core import durations
from infra.naming import (
    ALLOY_POD_RELABELS,
    ALLOY_RELEASE,
    LOKI_CLUSTER_LABEL,
    LOKI_ENVIRONMENT_LABEL,
    LOKI_LEVEL_LABEL,
    LOKI_RELEASE,
    loki_bucket_name,
)
from infra.plan.loki import LokiPlan
from infra.render.aws import PolicyDocument
from infra.render.kube_prometheus_stack import RELEASE_NAME

LOKI_CHART = "loki"
LOKI_CHART_REPO = "https://grafana-community.github.io/helm-charts"
LOKI_CHART_VERSION = "18.13.0"
#: Loki's service account; the IRSA trust policy names it.
LOKI_SERVICE_ACCOUNT = "loki"

ALLOY_CHART = "alloy"
ALLOY_CHART_REPO = "https://grafana.github.io/helm-charts"
ALLOY_CHART_VERSION = "1.13.0"

#: First day of the TSDB/v13 schema period. Never change it on a running Loki: add a period.
SCHEMA_FROM = "2024-04-01"

_RESOURCES: dict[bool, dict[str, dict[str, str]]] = {
    False: {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
    True: {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
}
_ALLOY_RESOURCES = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}


def lifecycle_expiration_days(retention: str) -> int:
    """Days after which the bucket expires objects: the retention rounded up, plus one."""
    return math.ceil(durations.seconds(retention) / 86400) + 1


def default_bucket_name(scope: str, account_id: str) -> str:
    """Loki's bucket when loki.bucket is unset (infra.naming.loki_bucket_name)."""
    return loki_bucket_name(scope, account_id)


def s3_access_policy(bucket_arn: str) -> PolicyDocument:
    """What Loki needs on its bucket and nothing else: list it, read/write/delete objects."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListLokiBucket",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [bucket_arn],
            },
            {
                "Sid": "ReadWriteLokiObjects",
                "Effect": "Allow",
                "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                "Resource": [f"{bucket_arn}/*"],
            },
        ],
    }


def tls_only_bucket_policy(bucket_arn: str) -> PolicyDocument:
    """Refuse every request to the bucket that does not use TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def schema_config(storage: str) -> dict[str, Any]:
    return {
        "configs": [
            {
                "from": SCHEMA_FROM,
                "store": "tsdb",
                "object_store": storage,
                "schema": "v13",
                "index": {"prefix": "loki_index_", "period": "24h"},
            }
        ]
    }


def loki_values(
    plan: LokiPlan, *, bucket: str | None = None, role_arn: str | None = None
) -> dict[str, Any]:
    """Values for the loki chart (release `loki`). With S3, `bucket` and `role_arn` are the
    bucket's name and the IRSA role's ARN (resolved outputs)."""
    storage: dict[str, Any]
    if plan.storage == "s3":
        if bucket is None or role_arn is None:
            raise ValueError("loki_values needs the bucket and the IRSA role with s3 storage")
        storage = {
            "type": "s3",
            "bucketNames": {"chunks": bucket, "ruler": bucket, "admin": bucket},
            "s3": {"region": plan.region, "s3ForcePathStyle": False, "insecure": False},
        }
    else:
        storage = {"type": "filesystem"}
    service_account: dict[str, Any] = {"create": True, "name": LOKI_SERVICE_ACCOUNT}
    if role_arn is not None:
        service_account["annotations"] = {"eks.amazonaws.com/role-arn": role_arn}
    return {
        "fullnameOverride": LOKI_RELEASE,
        "deploymentMode": "Monolithic",
        "loki": {
            # One tenant: the workloads' logs. No X-Scope-OrgID needed by the shipper or Grafana.
            "auth_enabled": False,
            "commonConfig": {"replication_factor": 1},
            "storage": storage,
            "schemaConfig": schema_config(plan.storage),
            "limits_config": {"retention_period": plan.retention},
            "compactor": {
                "working_directory": "/var/loki/compactor",
                "retention_enabled": True,
                "delete_request_store": plan.storage,
            },
        },
        "singleBinary": {
            "replicas": 1,
            "resources": _RESOURCES[plan.production_like],
            "persistence": {"enabled": True, "size": plan.volume_size},
        },
        "read": {"replicas": 0},
        "write": {"replicas": 0},
        "backend": {"replicas": 0},
        # Alloy and Grafana talk to the `loki` Service directly.
        "gateway": {"enabled": False},
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
        # The canary and the Helm test pull unpinned images (the test's tag is `latest`).
        "lokiCanary": {"enabled": False},
        "test": {"enabled": False},
        "serviceAccount": service_account,
        # Meta-monitoring: the chart's ServiceMonitor (push errors, discarded samples), selected
        # by kube-prometheus-stack's release label; no Grafana Agent or self-monitoring CRDs.
        "monitoring": {
            "serviceMonitor": {
                "enabled": True,
                "labels": {"release": RELEASE_NAME},
                "interval": plan.scrape_interval,
                "metricsInstance": {"enabled": False},
            },
            "selfMonitoring": {"enabled": False, "grafanaAgent": {"installOperator": False}},
            "dashboards": {"enabled": False},
            "rules": {"enabled": False},
        },
    }


def _pod_relabel_rules() -> str:
    """Alloy's relabel rules, from the one table the dashboards' stream selectors also read."""
    return "".join(
        f"""  rule {{
    source_labels = ["{meta}"]
    target_label  = "{label}"
  }}
"""
        for meta, label in ALLOY_POD_RELABELS
    )


def alloy_config(plan: LokiPlan) -> str:
    """Alloy's pipeline: this node's pods -> their log files -> CRI parsing -> Loki.

    Seed lines are Winston JSON; `level` becomes a label (five values), nothing else does."""
    return f"""\
discovery.kubernetes "pods" {{
  role = "pod"
  selectors {{
    role  = "pod"
    field = "spec.nodeName=" + sys.env("NODE_NAME")
  }}
}}

discovery.relabel "pods" {{
  targets = discovery.kubernetes.pods.targets

{_pod_relabel_rules()}  rule {{
    source_labels = ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"]
    separator     = "/"
    target_label  = "__path__"
    replacement   = "/var/log/pods/*$1/*.log"
  }}
}}

local.file_match "pods" {{
  path_targets = discovery.relabel.pods.output
}}

loki.source.file "pods" {{
  targets    = local.file_match.pods.targets
  forward_to = [loki.process.pods.receiver]
}}

loki.process "pods" {{
  stage.cri {{}}

  stage.json {{
    expressions = {{ {LOKI_LEVEL_LABEL} = "level" }}
  }}

  stage.labels {{
    values = {{ {LOKI_LEVEL_LABEL} = "" }}
  }}

  forward_to = [loki.write.default.receiver]
}}

loki.write "default" {{
  endpoint {{
    url = "{plan.push_url}"
  }}
  external_labels = {{
    {LOKI_CLUSTER_LABEL:<11} = "{plan.cluster}",
    {LOKI_ENVIRONMENT_LABEL:<11} = "{plan.environment}",
  }}
}}
"""


def alloy_values(plan: LokiPlan) -> dict[str, Any]:
    """Values for the alloy chart (release `alloy`): a DaemonSet reading /var/log."""
    return {
        "fullnameOverride": ALLOY_RELEASE,
        # No PodLogs or other Alloy CRDs are used here.
        "crds": {"create": False},
        "controller": {"type": "daemonset"},
        "alloy": {
            "configMap": {"create": True, "content": alloy_config(plan)},
            "mounts": {"varlog": True},
            "enableReporting": False,
            "extraEnv": [
                {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
            ],
            "resources": _ALLOY_RESOURCES,
        },
        "service": {"enabled": True, "type": "ClusterIP"},
        # Meta-monitoring: Alloy's own metrics (component health, loki.write drops).
        "serviceMonitor": {
            "enabled": True,
            "additionalLabels": {"release": RELEASE_NAME},
            "interval": plan.scrape_interval,
        },
    }
