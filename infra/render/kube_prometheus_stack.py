"""Helm values for kube-prometheus-stack, as a pure function of the config.

Helm replaces lists wholesale, so the Alertmanager config is given whole; secrets appear
only as Secret names and `*_file` paths, never as values.
"""

from __future__ import annotations

from typing import Any

from infra.config import EstateConfig
from infra.config.defaults import merge
from infra.render.grafana import chart_values

#: Fixed release name: PrometheusRules and ServiceMonitors select on `release: <name>`.
RELEASE_NAME = "kube-prometheus-stack"
CHART = "kube-prometheus-stack"
CHART_REPO = "https://prometheus-community.github.io/helm-charts"
#: Secret holding the receivers' credentials, mounted at /etc/alertmanager/secrets/<name>/.
ALERTMANAGER_SECRET = "alertmanager-receivers"
#: Secret holding Grafana's admin user and generated password (kept in Pulumi state).
GRAFANA_ADMIN_SECRET = "grafana-admin"
GRAFANA_ADMIN_USER_KEY = "admin-user"
GRAFANA_ADMIN_PASSWORD_KEY = "admin-password"

_SMALL = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}


def _volume(size: str, storage_class: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": size}},
    }
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"volumeClaimTemplate": {"spec": spec}}


def values(config: EstateConfig, alertmanager_config: dict[str, Any]) -> dict[str, Any]:
    """The chart's values for this stack."""
    m = config.metrics
    ha = config.environment in ("staging", "prod")
    external_labels = {"cluster": config.cluster.name, "environment": config.environment}
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
    return {
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
                "externalLabels": external_labels,
                "resources": m.prometheus_resources.as_k8s(),
                "storageSpec": _volume(m.storage, m.storage_class),
                # Select only rules and monitors carrying our release label.
                "ruleSelectorNilUsesHelmValues": True,
                "serviceMonitorSelectorNilUsesHelmValues": True,
                "podMonitorSelectorNilUsesHelmValues": True,
                **({"podAntiAffinity": "hard"} if ha else {}),
            },
        },
        "alertmanager": {
            "service": {"type": "ClusterIP"},
            "ingress": {"enabled": False},
            "config": alertmanager_config,
            "alertmanagerSpec": {
                "replicas": m.alertmanager_replicas,
                "secrets": [ALERTMANAGER_SECRET],
                "storage": _volume(m.alertmanager_storage, m.storage_class),
                "resources": _SMALL,
                **({"podAntiAffinity": "hard"} if ha else {}),
            },
        },
        "grafana": merge(grafana, chart_values(config)),
        # The chart's cluster rules stay; its `general` group is off because alerts/platform.py
        # owns Watchdog (one heartbeat, routed by name) and nothing here uses InfoInhibitor.
        "defaultRules": {"create": True, "rules": {"general": False}},
        "kubeStateMetrics": {"enabled": True},
        "nodeExporter": {"enabled": True},
    }
