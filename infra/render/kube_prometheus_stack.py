"""Helm values for kube-prometheus-stack, as a pure function of its plan (ChartPlan).

Helm replaces lists wholesale, so the Alertmanager config is given whole; secrets appear
only as Secret names and `*_file` paths, never as values.

Every series carries the external labels `cluster`, `region` and `environment` (on remote
write, federation and alerts). With `metrics.store: amp` the chart's Prometheus and Grafana
service accounts get fixed names and their IRSA role ARNs (infra/plan/metrics_store.py), Grafana
is allowed SigV4, and the replicas label themselves `__replica__` so the workspace keeps one
copy of what both write. The remote write itself and the workspace's data source need the
workspace's endpoint, a Pulumi output: infra/render/remote_write.with_workspace adds them.
"""

from __future__ import annotations

import copy
from typing import Any

from infra.config.defaults import merge
from infra.config.model import ClusterFlavor
from infra.naming import MONITORING_RELEASE
from infra.plan.metrics_store import AmpPlan
from infra.plan.monitoring import ChartPlan
from infra.render.alertmanager import RECEIVER_SECRET_NAME, alertmanager_config
from infra.render.chart_facts import UNREACHABLE_JOBS, rule_groups_of_jobs, unreachable_components
from infra.render.grafana import SIGV4_GRAFANA_INI, chart_values

#: Fixed release name: PrometheusRules and ServiceMonitors select on `release: <name>`.
RELEASE_NAME = MONITORING_RELEASE
CHART = "kube-prometheus-stack"
CHART_REPO = "https://prometheus-community.github.io/helm-charts"
#: Secret holding the receivers' credentials, mounted at /etc/alertmanager/secrets/<name>/.
ALERTMANAGER_SECRET = RECEIVER_SECRET_NAME
#: Secret holding Grafana's admin user and generated password (kept in Pulumi state).
GRAFANA_ADMIN_SECRET = "grafana-admin"
GRAFANA_ADMIN_USER_KEY = "admin-user"
GRAFANA_ADMIN_PASSWORD_KEY = "admin-password"

_SMALL = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}
#: The `region` external label of a stack without AWS (local).
NO_REGION = "local"
#: The annotation EKS's pod identity webhook reads: the pods of the service account get that
#: role's web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE).
IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
#: Amazon Managed Service for Prometheus keeps one sample of each series per `cluster` and
#: drops this label: the two replicas' samples are written once.
AMP_REPLICA_LABEL = "__replica__"


def _volume(size: str, storage_class: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": size}},
    }
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"volumeClaimTemplate": {"spec": spec}}


def flavor_values(flavor: ClusterFlavor) -> dict[str, Any]:
    """What the cluster's flavor cannot scrape, switched off: the components' ServiceMonitors
    and the default rule groups that select their jobs (infra/render/chart_facts.py), so that
    no `absent(up{job=...})` rule pages forever on a job that can never exist."""
    unreachable = UNREACHABLE_JOBS[flavor]
    rules: dict[str, bool] = dict.fromkeys(rule_groups_of_jobs(unreachable), False)
    # The chart's `general` group stays for TargetDown (any scraped job with over 10% of its
    # targets down: kubelet, node-exporter, kube-state-metrics, the operator...); only its
    # Watchdog is off, since alerts/platform.py owns the one heartbeat, routed by name.
    # InfoInhibitor (severity none) is routed to `null` by name.
    out: dict[str, Any] = {
        "defaultRules": {"create": True, "rules": rules, "disabled": {"Watchdog": True}}
    }
    for component in unreachable_components(flavor):
        out[component] = {"enabled": False}
    return out


def external_labels(plan: ChartPlan) -> dict[str, str]:
    """The labels Prometheus adds to every series it sends anywhere (remote write,
    federation, alerts): which cluster, region and environment it came from."""
    return {
        "cluster": plan.cluster,
        "region": plan.region or NO_REGION,
        "environment": plan.environment,
    }


def service_account(name: str, role_arn: str) -> dict[str, Any]:
    """A chart's service account, named (the role's trust policy names it) and annotated with
    the IRSA role its pods assume."""
    return {"create": True, "name": name, "annotations": {IRSA_ROLE_ANNOTATION: role_arn}}


def store_values(store: AmpPlan) -> dict[str, Any]:
    """What `metrics.store: amp` adds to the chart's values at plan time (deep-merged)."""
    return {
        "prometheus": {
            "serviceAccount": service_account(
                store.prometheus_service_account, store.prometheus_role_arn
            ),
            "prometheusSpec": {"replicaExternalLabelName": AMP_REPLICA_LABEL},
        },
        "grafana": {
            "serviceAccount": service_account(
                store.grafana_service_account, store.grafana_role_arn
            ),
            "grafana.ini": copy.deepcopy(SIGV4_GRAFANA_INI),
        },
    }


def values(plan: ChartPlan) -> dict[str, Any]:
    """The chart's values for this stack."""
    m = plan.metrics
    ha = plan.production_like
    grafana: dict[str, Any] = {
        "enabled": True,
        "admin": {
            "existingSecret": GRAFANA_ADMIN_SECRET,
            "userKey": GRAFANA_ADMIN_USER_KEY,
            "passwordKey": GRAFANA_ADMIN_PASSWORD_KEY,
        },
        "sidecar": {
            "dashboards": {
                "enabled": True,
                "label": "grafana_dashboard",
                "labelValue": "1",
                "searchNamespace": "ALL",
                "folderAnnotation": "grafana_folder",
                "provider": {"foldersFromFilesStructure": True},
            },
            "datasources": {"enabled": True},
        },
        "persistence": (
            {"enabled": True, "size": m.grafana_storage}
            if m.grafana_storage
            else {"enabled": False}
        ),
        "service": {"type": "ClusterIP"},
        "ingress": {"enabled": False},
    }
    out: dict[str, Any] = {
        "fullnameOverride": RELEASE_NAME,
        "crds": {"enabled": True},
        "prometheusOperator": {
            "resources": _SMALL,
            "admissionWebhooks": {"enabled": True, "patch": {"enabled": True}},
        },
        "prometheus": {
            "service": {"type": "ClusterIP"},
            "ingress": {"enabled": False},
            "prometheusSpec": {
                "replicas": m.prometheus_replicas,
                "retention": m.retention,
                "retentionSize": m.retention_size,
                "scrapeInterval": m.scrape_interval,
                "evaluationInterval": m.evaluation_interval,
                "externalLabels": external_labels(plan),
                "resources": m.prometheus_resources.as_k8s(),
                "storageSpec": _volume(m.storage, m.storage_class),
                # Select only rules and monitors carrying our release label.
                "ruleSelectorNilUsesHelmValues": True,
                "serviceMonitorSelectorNilUsesHelmValues": True,
                "podMonitorSelectorNilUsesHelmValues": True,
                **({"podAntiAffinity": "hard"} if ha else {}),
                # Links in alerts (generatorURL) and the UI resolve to where people reach it.
                **({"externalUrl": m.prometheus_external_url} if m.prometheus_external_url else {}),
            },
        },
        "alertmanager": {
            "service": {"type": "ClusterIP"},
            "ingress": {"enabled": False},
            "config": alertmanager_config(plan.alertmanager),
            "alertmanagerSpec": {
                "replicas": m.alertmanager_replicas,
                "secrets": [ALERTMANAGER_SECRET],
                "storage": _volume(m.alertmanager_storage, m.storage_class),
                "resources": _SMALL,
                **({"podAntiAffinity": "hard"} if ha else {}),
                # Notification links (silences, the alert list) resolve to where people reach it.
                **(
                    {"externalUrl": m.alertmanager_external_url}
                    if m.alertmanager_external_url
                    else {}
                ),
            },
        },
        "grafana": merge(grafana, chart_values(plan.grafana)),
        # The chart's cluster rules stay, less what the cluster's flavor cannot scrape
        # (flavor_values), and the chart's own Watchdog.
        "kubeStateMetrics": {"enabled": True},
        "nodeExporter": {"enabled": True},
        **flavor_values(plan.flavor),
    }
    return merge(out, store_values(plan.store)) if plan.store is not None else out
