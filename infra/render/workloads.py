"""Kubernetes manifests for an observed workload, as plain dicts (pure; no Pulumi).

A Deployment with the service's three probes (HTTP health routes, or TCP connects for a
service without any), a Service with the named port(s) the ServiceMonitor scrapes, its
ServiceAccount (IRSA-annotated when a role is given), a PodDisruptionBudget and, for a service
that serves metrics, the ServiceMonitor itself. The restricted Pod Security Standard holds for
every pod here.
"""

from __future__ import annotations

from typing import Any

from infra.config.probes import probe_dict
from infra.naming import ENVIRONMENT_LABEL, PART_OF_LABEL, PROJECT
from infra.plan.workloads import (
    PORT_NAME,
    RUN_AS_USER,
    SENTRY_SECRET_KEY,
    SENTRY_SECRET_NAME,
    WorkloadSpec,
)
from infra.render.monitors import service_monitor

#: IRSA: the EKS pod identity webhook reads this annotation on the service account.
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


def _meta(spec: WorkloadSpec, name: str | None = None) -> dict[str, Any]:
    return {"name": name or spec.service, "namespace": spec.namespace, "labels": spec.labels}


def _volume_name(path: str) -> str:
    return "rw-" + (path.strip("/").replace("/", "-").replace(".", "") or "root")


def deployment(spec: WorkloadSpec) -> dict[str, Any]:
    """The workload's Deployment. Rolling updates never take a ready pod away first."""
    probes = spec.probes
    ports = [{"name": PORT_NAME, "containerPort": spec.port, "protocol": "TCP"}]
    if spec.metrics is not None and spec.metrics.port_name != PORT_NAME:
        ports.append(
            {"name": spec.metrics.port_name, "containerPort": spec.metrics.port, "protocol": "TCP"}
        )
    container: dict[str, Any] = {
        "name": spec.service,
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": ports,
        "env": [var.as_k8s() for var in spec.env],
        "resources": spec.resources,
        "livenessProbe": probe_dict(probes.liveness, PORT_NAME),
        "readinessProbe": probe_dict(probes.readiness, PORT_NAME),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": _volume_name(path), "mountPath": path} for path in spec.writable_paths
        ],
    }
    if probes.startup is not None:
        container["startupProbe"] = probe_dict(probes.startup, PORT_NAME)
    pod_spec: dict[str, Any] = {
        "serviceAccountName": spec.service_account,
        # The app does not call the Kubernetes API; IRSA projects its own token regardless.
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "runAsGroup": RUN_AS_USER,
            "fsGroup": RUN_AS_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [{"name": _volume_name(path), "emptyDir": {}} for path in spec.writable_paths],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(spec),
        "spec": {
            "replicas": spec.replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": spec.selector},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {"metadata": {"labels": spec.labels}, "spec": pod_spec},
        },
    }


def service(spec: WorkloadSpec) -> dict[str, Any]:
    """ClusterIP Service; ports are named so the ServiceMonitor can select them by name."""
    ports = [(PORT_NAME, spec.port)]
    if spec.metrics is not None and spec.metrics.port_name != PORT_NAME:
        ports.append((spec.metrics.port_name, spec.metrics.port))
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(spec),
        "spec": {
            "type": "ClusterIP",
            "selector": spec.selector,
            "ports": [
                {
                    "name": name,
                    "port": port,
                    "targetPort": name,
                    "protocol": "TCP",
                    "appProtocol": "http",
                }
                for name, port in ports
            ],
        },
    }


def service_account(spec: WorkloadSpec, role_arn: Any = None) -> dict[str, Any]:
    """The workload's ServiceAccount; `role_arn` (a string or a Pulumi output) adds IRSA."""
    metadata = _meta(spec, spec.service_account)
    if role_arn is not None:
        metadata["annotations"] = {IRSA_ANNOTATION: role_arn}
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata,
        "automountServiceAccountToken": False,
    }


def pod_disruption_budget(spec: WorkloadSpec) -> dict[str, Any]:
    """maxUnavailable 1 whatever the replica count: with several replicas a voluntary
    disruption (a node drain) keeps all but one serving, which is stronger than minAvailable 1
    from three replicas up; with one replica it never blocks a drain forever, as minAvailable 1
    would."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(spec),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": spec.selector}},
    }


def monitor(spec: WorkloadSpec, *, release: str, interval: str) -> dict[str, Any] | None:
    """The ServiceMonitor kube-prometheus-stack selects (label ``release: <release>``), or
    None for a service that serves no metrics (no target, so no ServiceDown to page)."""
    if spec.metrics is None:
        return None
    manifest = service_monitor(
        service=spec.service,
        namespace=spec.namespace,
        release=release,
        interval=interval,
        port=spec.metrics.port_name,
        path=spec.metrics.path,
    )
    manifest["metadata"]["labels"] = {**spec.labels, **manifest["metadata"]["labels"]}
    return manifest


def namespace(name: str, *, environment: str, pod_security: str = "restricted") -> dict[str, Any]:
    """Every namespace the estate declares (the one builder): part of the project, labelled
    with the stack's environment (the policies read it) and enforcing a Pod Security
    Standard. The workloads' namespace can enforce `restricted`; the observability namespace
    needs `privileged` for the log shipper's hostPath mount of /var/log, the monitoring one for
    node-exporter's host network and PIDs."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {
                PART_OF_LABEL: PROJECT,
                ENVIRONMENT_LABEL: environment,
                "pod-security.kubernetes.io/enforce": pod_security,
                "pod-security.kubernetes.io/warn": pod_security,
            },
        },
    }


def sentry_secret(namespace_name: str, dsn: Any) -> dict[str, Any]:
    """The Secret the Deployments' SENTRY_DSN reads; `dsn` is a Pulumi secret output."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": SENTRY_SECRET_NAME,
            "namespace": namespace_name,
            "labels": {PART_OF_LABEL: PROJECT},
        },
        "type": "Opaque",
        "stringData": {SENTRY_SECRET_KEY: dsn},
    }


def manifests(spec: WorkloadSpec, role_arn: Any = None) -> list[dict[str, Any]]:
    """The workload's plain (non-CRD) manifests, in the order they are created."""
    return [
        service_account(spec, role_arn),
        service(spec),
        deployment(spec),
        pod_disruption_budget(spec),
    ]
