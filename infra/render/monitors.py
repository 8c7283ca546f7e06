"""ServiceMonitor manifests for the workloads' /metrics endpoints (pure)."""

from __future__ import annotations

from typing import Any


def service_monitor(
    *,
    service: str,
    namespace: str,
    release: str,
    interval: str,
    port: str = "http",
    path: str = "/metrics",
) -> dict[str, Any]:
    """A ServiceMonitor that kube-prometheus-stack selects (label `release: <release>`) and
    that scrapes `service`'s Service port `port` at `path`, with `job=<service>`."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {
            "name": service,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/name": service, "release": release},
        },
        "spec": {
            "jobLabel": "app.kubernetes.io/name",
            "selector": {"matchLabels": {"app.kubernetes.io/name": service}},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [
                {
                    "port": port,
                    "path": path,
                    "interval": interval,
                    "scheme": "http",
                    "honorLabels": False,
                }
            ],
        },
    }
